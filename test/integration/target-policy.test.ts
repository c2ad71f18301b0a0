/**
 * The target policy end to end: allow and deny rules, port ranges, name globs, deny-private,
 * DNS rebinding, fixed-target mode, and the start-up rule against an open gateway, on the real
 * bridge with DNS stubbed at the policy boundary and the in-process fake SSH server.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { startFakeSsh, startTarpit, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs } from '../helpers/ws-client.js';
import type { LookupFn } from '../../src/policy/target.js';

const V1 = 'webssh-bridge.v1';
/** Completing a login needs a host key decision; these tests are about targets, not keys. */
const LOGIN = ['--host-key-policy', 'accept-new-insecure', '--rate-burst', '100'];

type Answer = Array<{ address: string; family: 4 | 6 }>;

/** DNS stub: each name answers from its list of answers in turn (the last one repeats); calls are recorded. */
function stubLookup(names: Record<string, string[] | string[][]>): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = (host: string): Promise<Answer> => {
    const seen = calls.filter((h) => h === host).length;
    calls.push(host);
    const entry = names[host];
    if (entry === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    const answers: string[][] = entry.every((e) => Array.isArray(e)) ? entry : [entry];
    const addrs = answers[Math.min(seen, answers.length - 1)] ?? [];
    return Promise.resolve(addrs.map((address) => ({ address, family: address.includes(':') ? 6 as const : 4 as const })));
  };
  return Object.assign(fn, { calls });
}

async function start(flags: string[], lookup?: LookupFn): Promise<BridgeHandle> {
  return startBridge([...LOGIN, ...flags], lookup === undefined ? {} : { lookup });
}

async function login(bridge: BridgeHandle, host: string, ssh: FakeSshHandle, port = ssh.port): Promise<void> {
  const ws = await openWs(`${bridge.wsBase}/ws/${host}/${port}`);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.close();
  await ws.closed;
}

/** The upgrade succeeds (the policy admitted the target); closed before credentials, so nothing is dialed. */
async function admitted(bridge: BridgeHandle, host: string, port: number): Promise<void> {
  const ws = await openWs(`${bridge.wsBase}/ws/${host}/${port}`);
  ws.close();
  await ws.closed;
}

/** Seed client: HTTP 403 TARGET_DENIED; returns the message (with the reason). */
async function refused(bridge: BridgeHandle, host: string, port: number): Promise<string> {
  const r = await expectHttpRejection(`${bridge.wsBase}/ws/${host}/${port}`);
  assert.equal(r.status, 403, `${host}:${port} ${JSON.stringify(r.body)}`);
  const body = r.body as { code: string; message: string };
  assert.equal(body.code, 'TARGET_DENIED', host);
  return body.message;
}

/** A TCP listener on 127.0.0.2 at `port` that counts connections: proof that an address was never dialed. */
async function decoyOn(port: number): Promise<{ connections: () => number; close: () => Promise<void> } | null> {
  let count = 0;
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    count++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.destroy();
  });
  const ok = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.2', () => resolve(true));
  });
  if (!ok) return null;
  return { connections: () => count, close: () => new Promise<void>((resolve) => srv.close(() => resolve())) };
}

/** A fake SSH server on 127.0.0.1:P and a decoy on 127.0.0.2:P, the same port. */
async function sshWithDecoy(): Promise<{ ssh: FakeSshHandle; decoy: { connections: () => number; close: () => Promise<void> } }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const ssh = await startFakeSsh();
    const decoy = await decoyOn(ssh.port);
    if (decoy !== null) return { ssh, decoy };
    await ssh.close();
  }
  throw new Error('could not listen on 127.0.0.2 at the fake SSH server port');
}

void test('allow list admits a matching target and refuses another: seed 403 with the reason, v1 close 1008', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const P = ssh.port;
  const bridge = await start(['--allow-targets', `127.0.0.1:${P}`]);
  t.after(() => bridge.close());

  await login(bridge, '127.0.0.1', ssh);
  assert.equal(await refused(bridge, '127.0.0.2', P), `target denied by policy: 127.0.0.2:${P} matches no allow rule`);
  assert.equal(await refused(bridge, '127.0.0.1', P - 1), `target denied by policy: 127.0.0.1:${P - 1} matches no allow rule`);
  assert.equal(await refused(bridge, '%5B::1%5D', P), `target denied by policy: [::1]:${P} matches no allow rule`);

  const v1 = await openWs(`${bridge.wsBase}/ws/127.0.0.2/${P}`, { protocol: V1 });
  const closed = await v1.closed;
  assert.equal(closed.code, 1008);
  assert.equal(closed.reason, `TARGET_DENIED: target denied by policy: 127.0.0.2:${P} matches no allow rule`);
  assert.deepEqual(v1.controls(), [{ type: 'error', code: 'TARGET_DENIED', message: `target denied by policy: 127.0.0.2:${P} matches no allow rule` }]);

  assert.equal(ssh.events.connections, 1, 'only the allowed login reached the SSH server');
  assert.equal(bridge.app.manager.stats().rejections.TARGET_DENIED, 4);
  const logged = bridge.logs().filter((l) => l.code === 'TARGET_DENIED');
  assert.equal(logged.length, 4);
  assert.match(String(logged[0]?.detail), /matches no allow rule/);
});

void test('port ranges: the ends of the range are in, the ports outside are out', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const P = ssh.port;
  const bridge = await start(['--allow-targets', `127.0.0.0/8:${P - 1}-${P}`]);
  t.after(() => bridge.close());
  await login(bridge, '127.0.0.1', ssh);
  await admitted(bridge, '127.0.0.1', P - 1);
  await admitted(bridge, '127.9.9.9', P);
  assert.match(await refused(bridge, '127.0.0.1', P - 2), new RegExp(`127\\.0\\.0\\.1:${P - 2} matches no allow rule$`));
  if (P < 65535) assert.match(await refused(bridge, '127.0.0.1', P + 1), /matches no allow rule$/);
  assert.equal(ssh.events.connections, 1);
});

void test('host name globs (stub DNS): *.lab.test covers a.lab.test and a.b.lab.test, not lab.test nor the literal address', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const P = ssh.port;
  const lookup = stubLookup({
    'box.lab.test': ['127.0.0.1'],
    'a.b.lab.test': ['127.0.0.1'],
    'lab.test': ['127.0.0.1'],
    'box.lab.test.evil.test': ['127.0.0.1'],
    'boxlab.test': ['127.0.0.1'],
  });
  const bridge = await start(['--allow-targets', `*.lab.test:${P}`], lookup);
  t.after(() => bridge.close());

  await login(bridge, 'box.lab.test', ssh);
  await login(bridge, 'BOX.Lab.Test.', ssh); // names are case-insensitive, a trailing dot is the same name
  await admitted(bridge, 'a.b.lab.test', P);
  for (const host of ['lab.test', 'box.lab.test.evil.test', 'boxlab.test']) {
    assert.equal(await refused(bridge, host, P), `target denied by policy: ${host}:${P} matches no allow rule`);
  }
  assert.match(await refused(bridge, '127.0.0.1', P), /127\.0\.0\.1:\d+ matches no allow rule$/, 'a glob never matches an IP literal');
  assert.match(await refused(bridge, 'box.lab.test', P - 1), /matches no allow rule$/, 'the port part applies to globs');
  assert.equal(ssh.events.connections, 2);
});

void test('deny wins over allow: by address, by name, and for names resolving into a denied rule', async (t) => {
  const tarpit = await startTarpit();
  t.after(() => tarpit.close());
  const P = tarpit.port;
  const lookup = stubLookup({ 'good.lab.test': ['127.0.0.1'], 'bad.lab.test': ['127.0.0.3'], 'other.lab.test': ['127.0.0.3'] });
  const bridge = await start(['--allow-targets', '127.0.0.0/8,*.lab.test', '--deny-targets', `127.0.0.1:${P},bad.lab.test`], lookup);
  t.after(() => bridge.close());

  assert.equal(await refused(bridge, '127.0.0.1', P), `target denied by policy: 127.0.0.1:${P} is in deny rule 127.0.0.1:${P}`);
  assert.equal(await refused(bridge, 'good.lab.test', P), `target denied by policy: 127.0.0.1:${P} is in deny rule 127.0.0.1:${P}`);
  assert.equal(await refused(bridge, 'bad.lab.test', P), `target denied by policy: bad.lab.test:${P} matches deny rule bad.lab.test`);
  await admitted(bridge, '127.0.0.1', P - 1); // the deny rule names one port
  await admitted(bridge, 'other.lab.test', P);
  assert.equal(tarpit.connections(), 0, 'a denied target is never dialed');
});

void test('deny-private-targets refuses 127.0.0.1, ::1 and localhost (stub DNS), even when allowed', async (t) => {
  const tarpit = await startTarpit();
  t.after(() => tarpit.close());
  const P = tarpit.port;
  const lookup = stubLookup({ localhost: ['::1', '127.0.0.1'], 'v4only.test': ['127.0.0.1'] });
  const bridge = await start(['--deny-private-targets', '--allow-targets', '127.0.0.1,localhost'], lookup);
  t.after(() => bridge.close());

  assert.equal(await refused(bridge, '127.0.0.1', P), 'target denied by policy: 127.0.0.1 is in a private range (deny-private-targets)');
  assert.equal(await refused(bridge, '%5B::1%5D', P), 'target denied by policy: ::1 is in a private range (deny-private-targets)');
  assert.equal(await refused(bridge, '%5B::ffff:127.0.0.1%5D', P), 'target denied by policy: 127.0.0.1 is in a private range (deny-private-targets)');
  assert.equal(await refused(bridge, 'localhost', P), 'target denied by policy: ::1 is in a private range (deny-private-targets)');
  assert.equal(await refused(bridge, 'v4only.test', P), 'target denied by policy: 127.0.0.1 is in a private range (deny-private-targets)');
  const v1 = await openWs(`${bridge.wsBase}/ws/localhost/${P}`, { protocol: V1 });
  assert.equal((await v1.closed).code, 1008);
  assert.equal(tarpit.connections(), 0);

  // Without the flag the same targets are reachable (reaching internal hosts is the bridge's job).
  const open = await start([], lookup);
  t.after(() => open.close());
  await admitted(open, 'localhost', P);
});

void test('DNS rebinding: one lookup per connection, and the checked address is the one dialed', async (t) => {
  const { ssh, decoy } = await sshWithDecoy();
  t.after(() => ssh.close());
  t.after(() => decoy.close());
  const P = ssh.port;
  // First answer: the allowed 127.0.0.1; every later answer: 127.0.0.2, which no rule allows.
  const lookup = stubLookup({ 'rebind.test': [['127.0.0.1'], ['127.0.0.2']] });
  const bridge = await start(['--allow-targets', `127.0.0.1:${P}`], lookup);
  t.after(() => bridge.close());

  await login(bridge, 'rebind.test', ssh);
  assert.deepEqual(lookup.calls, ['rebind.test'], 'the name is resolved once: no second lookup at dial time');
  assert.equal(ssh.events.connections, 1, 'the SSH server on the checked address got the connection');
  assert.equal(decoy.connections(), 0, 'the address the name rebound to was never dialed');

  assert.equal(await refused(bridge, 'rebind.test', P), `target denied by policy: rebind.test:${P} matches no allow rule`);
  assert.deepEqual(lookup.calls, ['rebind.test', 'rebind.test'], 'each connection is judged on its own (single) answer');
  assert.equal(ssh.events.connections, 1);
  assert.equal(decoy.connections(), 0);
});

void test('a name resolving to [allowed, denied] is refused whole; [not allowed, allowed] dials only the allowed one', async (t) => {
  const { ssh, decoy } = await sshWithDecoy();
  t.after(() => ssh.close());
  t.after(() => decoy.close());
  const P = ssh.port;
  const lookup = stubLookup({ 'mixed.test': ['127.0.0.1', '127.0.0.2'], 'dual.test': ['127.0.0.2', '127.0.0.1'] });
  const denying = await start(['--allow-targets', '127.0.0.0/8', '--deny-targets', '127.0.0.2'], lookup);
  t.after(() => denying.close());
  assert.equal(await refused(denying, 'mixed.test', P), `target denied by policy: 127.0.0.2:${P} is in deny rule 127.0.0.2`);
  const v1 = await openWs(`${denying.wsBase}/ws/mixed.test/${P}`, { protocol: V1 });
  const closed = await v1.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /^TARGET_DENIED: target denied by policy: 127\.0\.0\.2:\d+ is in deny rule 127\.0\.0\.2$/);
  assert.equal(ssh.events.connections + decoy.connections(), 0, 'nothing dialed');

  // 127.0.0.2 is merely outside the allow list, not denied: the bridge skips it and dials 127.0.0.1.
  const allowing = await start(['--allow-targets', `127.0.0.1:${P}`], lookup);
  t.after(() => allowing.close());
  await login(allowing, 'dual.test', ssh);
  assert.equal(ssh.events.connections, 1);
  assert.equal(decoy.connections(), 0, 'the address outside the allow list was never dialed');
});

void test('fixed-target mode is checked by the policy too', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const P = ssh.port;
  const denied = await start(['--target', `127.0.0.1:${P}`, '--deny-private-targets']);
  t.after(() => denied.close());
  assert.match(await refused(denied, 'anything.example', 22), /127\.0\.0\.1 is in a private range/);

  const lookup = stubLookup({ 'box.test': ['127.0.0.1'] });
  const notAllowed = await start(['--target', `box.test:${P}`, '--allow-targets', '10.0.0.0/8'], lookup);
  t.after(() => notAllowed.close());
  assert.equal(await refused(notAllowed, 'x', 22), `target denied by policy: box.test:${P} matches no allow rule`);

  const allowed = await start(['--target', `box.test:${P}`, '--allow-targets', `127.0.0.1:${P}`], lookup);
  t.after(() => allowed.close());
  await login(allowed, 'whatever.example', ssh, 2222);
  assert.equal(ssh.events.connections, 1);
});

void test('CLI: an open gateway on a non-loopback address stops the start with exit 2 and says why and how to fix it', () => {
  const r = runCli(['--server-address', '0.0.0.0:0', '--insecure-http']);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^webssh-bridge: refusing to run an open SSH gateway on non-loopback address 0\.0\.0\.0/);
  assert.match(r.stderr, /scan and attack/);
  assert.match(r.stderr, /--allow-targets.*--target host:port.*--allow-any-target/);

  // Deny lists alone do not make the gateway closed.
  assert.equal(runCli(['--server-address', '0.0.0.0:0', '--insecure-http', '--deny-private-targets']).status, 2);
  // The TLS rule still comes first.
  assert.match(runCli(['--server-address', '0.0.0.0:0']).stderr, /refusing to serve plain HTTP/);
});

void test('CLI: a rule the option syntax admits but the policy cannot use is exit 2', () => {
  for (const [flag, rule] of [['--allow-targets', '10.0.0.*'], ['--deny-targets', '999.1.1.1:22']] as const) {
    const r = runCli([flag, rule]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`invalid target rule in ${flag.slice(2)}`));
    assert.ok(r.stderr.includes(`"${rule}"`), r.stderr);
  }
});

void test('CLI: --allow-targets (or --target, or --allow-any-target) lets a non-loopback listener start', async (t) => {
  for (const fix of [['--allow-targets', '10.0.0.0/8:22'], ['--target', 'ssh.internal:22'], ['--allow-any-target']]) {
    const cli = spawnCli(['--server-address', '0.0.0.0:0', '--insecure-http', ...fix]);
    t.after(() => cli.close());
    await cli.listening();
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0, fix.join(' '));
  }
});
