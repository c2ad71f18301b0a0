/**
 * Host key verification against a real OpenSSH sshd: strict, tofu (v1 question and seed
 * clients), accept-new-insecure, changed keys, hashed known_hosts entries, the resolved-address
 * fallback, and concurrent accepts writing one known_hosts file. Fails (never skips) under
 * CI=true when sshd is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import type { LookupFn } from '../../src/policy/target.js';
import { parseKnownHosts, lookup } from '../../src/ssh/known-hosts.js';

const V1 = 'webssh-bridge.v1';
const BANNER = 'uwsb hostkey test banner';

interface Ctl { type?: string; [k: string]: unknown }
const ctl = (m: unknown): Ctl => m as Ctl;
const isType = (type: string) => (m: unknown): boolean => ctl(m).type === type;

void describe('host key verification against a real OpenSSH sshd', () => {
  let sshd: SshdHandle | undefined;
  let dir = '';
  let seq = 0;

  before(async () => {
    if (!sshdAvailable()) return;
    sshd = await startSshd({ banner: `${BANNER}\n` });
    dir = mkdtempSync(join(tmpdir(), 'uwsb-hostkeys-'));
  });
  after(async () => {
    await sshd?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const ready = (t: TestContext): SshdHandle | undefined => {
    if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return undefined;
    assert.ok(sshd, 'before() started sshd');
    return sshd;
  };

  /** A fresh known_hosts path (not created) in the test's temp dir. */
  const knownHostsPath = (): string => join(dir, `known_hosts_${++seq}`);

  /** The sshd's key as a known_hosts line for `[127.0.0.1]:PORT`. */
  const realLine = (s: SshdHandle, host = '127.0.0.1'): string => {
    const [type, base64] = s.hostPublicKey.split(' ');
    return `[${host}]:${s.port} ${type ?? ''} ${base64 ?? ''}`;
  };

  /** A bridge with these host key flags; `known` is written to a fresh known_hosts file when given. */
  async function bridgeWith(t: TestContext, flags: string[], known?: string, lookupFn?: LookupFn): Promise<{ bridge: BridgeHandle; file: string }> {
    const file = knownHostsPath();
    if (known !== undefined) writeFileSync(file, known);
    const all = ['--known-hosts', file, '--system-known-hosts', join(dir, 'no-system-file'), ...flags];
    const bridge = await startBridge(all, lookupFn === undefined ? {} : { lookup: lookupFn });
    t.after(() => bridge.close());
    return { bridge, file };
  }

  const url = (b: BridgeHandle, s: SshdHandle, host = '127.0.0.1'): string => `${b.wsBase}/ws/${host}/${s.port}`;

  async function seedLogin(b: BridgeHandle, s: SshdHandle): Promise<TestWs> {
    const ws = await openWs(url(b, s));
    ws.sendJson({ username: s.username, password: s.password });
    return ws;
  }

  async function v1Auth(target: string, s: SshdHandle): Promise<TestWs> {
    const ws = await openWs(target, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: s.username, password: s.password });
    return ws;
  }

  /** Run `echo` through the shell: the session really works. */
  async function provesShell(ws: TestWs, binary: boolean): Promise<void> {
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    const cmd = 'echo "hk-$((20+22))"\r';
    if (binary) ws.sendBinary(Buffer.from(cmd));
    else ws.sendText(cmd);
    await ws.waitForOutput('hk-42', 15_000);
    ws.close();
    await ws.closed;
  }

  const sshdSawLogin = (s: SshdHandle): number => (s.log().match(/Accepted password for uwsbtest/g) ?? []).length;

  void it('strict, no entry: seed and v1 close 4002 HOST_KEY_UNKNOWN with the presented fingerprint, before any login', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge } = await bridgeWith(t, ['--host-key-policy', 'strict']);
    const logins = sshdSawLogin(s);
    const seed = await seedLogin(bridge, s);
    const seedClosed = await seed.closed;
    assert.equal(seedClosed.code, 4002);
    assert.equal(seedClosed.reason, `HOST_KEY_UNKNOWN: host key not known: presented ${s.hostKeyFingerprint}`);
    const v1 = await v1Auth(url(bridge, s), s);
    const closed = await v1.closed;
    assert.equal(closed.code, 4002);
    assert.match(closed.reason, /^HOST_KEY_UNKNOWN: /);
    assert.deepEqual(v1.controls().map((m) => ctl(m).type), ['error'], 'no question, no banner, no ready under strict');
    assert.equal(ctl(v1.controls()[0]).code, 'HOST_KEY_UNKNOWN');
    assert.ok(String(ctl(v1.controls()[0]).message).includes(s.hostKeyFingerprint));
    assert.equal(sshdSawLogin(s), logins, 'the password never reached the server');
    const refused = bridge.logs().filter((l) => l.event === 'host_key_refused');
    assert.equal(refused.length, 2);
    assert.equal(refused[0]?.fingerprint, s.hostKeyFingerprint);
  });

  void it('strict with the key in known_hosts as `[127.0.0.1]:PORT ssh-ed25519 AAAA...`: seed and v1 shells work', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge } = await bridgeWith(t, ['--host-key-policy', 'strict'], `# test\n${realLine(s)}\n`);
    await provesShell(await seedLogin(bridge, s), false);
    const v1 = await v1Auth(url(bridge, s), s);
    await v1.waitForControl(isType('ready'), 15_000);
    assert.ok(!v1.controls().some(isType('hostkey')), 'a known key is not asked about');
    await provesShell(v1, true);
  });

  void it('strict with a hashed entry (`ssh-keygen -H`) works', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const file = knownHostsPath();
    writeFileSync(file, `${realLine(s)}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'pipe' });
    const hashed = readFileSync(file, 'utf8');
    assert.ok(hashed.startsWith('|1|') && !hashed.includes('127.0.0.1'), hashed);
    const { bridge } = await bridgeWith(t, ['--host-key-policy', 'strict'], hashed);
    await provesShell(await seedLogin(bridge, s), false);
  });

  void it('strict: an entry for the resolved address vouches for a name that has none', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const lookupFn: LookupFn = (host) => (host === 'alias.test' ? Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]) : Promise.reject(new Error('ENOTFOUND')));
    const { bridge } = await bridgeWith(t, ['--host-key-policy', 'strict'], `${realLine(s)}\n`, lookupFn);
    const v1 = await v1Auth(url(bridge, s, 'alias.test'), s);
    await v1.waitForControl(isType('ready'), 15_000);
    await provesShell(v1, true);
  });

  void it('a different key stored for the host: 4002 HOST_KEY_CHANGED with both fingerprints, never asked, under every policy', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const keyFile = join(dir, `other_${++seq}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile], { stdio: 'pipe' });
    const [type, base64] = readFileSync(`${keyFile}.pub`, 'utf8').trim().split(' ');
    const wrong = execFileSync('ssh-keygen', ['-lf', `${keyFile}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
    for (const policy of ['tofu', 'strict', 'accept-new-insecure']) {
      const { bridge, file } = await bridgeWith(t, ['--host-key-policy', policy], `[127.0.0.1]:${s.port} ${type ?? ''} ${base64 ?? ''}\n`);
      const before = readFileSync(file, 'utf8');
      const v1 = await v1Auth(url(bridge, s), s);
      const closed = await v1.closed;
      assert.equal(closed.code, 4002, policy);
      assert.equal(closed.reason, `HOST_KEY_CHANGED: host key changed: presented ${s.hostKeyFingerprint} differs from stored`, policy);
      assert.ok(Buffer.byteLength(closed.reason) <= 123);
      const errors = v1.controls().filter(isType('error'));
      assert.deepEqual(errors, [{ type: 'error', code: 'HOST_KEY_CHANGED', message: `host key changed: stored ${wrong} presented ${s.hostKeyFingerprint}` }], policy);
      assert.ok(!v1.controls().some(isType('hostkey')), `${policy}: a changed key is never offered to the user`);
      assert.equal(readFileSync(file, 'utf8'), before, 'known_hosts untouched');
      const seed = await seedLogin(bridge, s);
      assert.equal((await seed.closed).code, 4002, `${policy}: seed client too`);
      const refused = bridge.logs().find((l) => l.event === 'host_key_refused');
      assert.deepEqual((refused?.stored as Array<Record<string, unknown>> | undefined)?.map((x) => x.fingerprint), [wrong]);
    }
  });

  void it('tofu v1: the question comes first with the right fingerprint; accept -> shell works, the key is stored, and is not asked again', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge, file } = await bridgeWith(t, []); // tofu is the default
    assert.ok(!existsSync(file));
    const ws = await v1Auth(url(bridge, s), s);
    const q = ctl(await ws.waitForControl(isType('hostkey'), 15_000));
    assert.deepEqual(q, { type: 'hostkey', host: '127.0.0.1', port: s.port, algorithm: 'ssh-ed25519', fingerprint: s.hostKeyFingerprint, status: 'unknown' });
    assert.deepEqual(ws.controls().map((m) => ctl(m).type), ['hostkey'], 'hostkey comes before banner and ready');
    ws.sendBinary(Buffer.from('typed-ahead\r')); // input while asked is kept, as while connecting
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    await ws.waitForControl(isType('ready'), 15_000);
    const types = ws.controls().map((m) => ctl(m).type);
    assert.ok(types.indexOf('hostkey') < types.indexOf('banner') && types.indexOf('banner') < types.indexOf('ready'), types.join(','));
    await provesShell(ws, true);

    const text = readFileSync(file, 'utf8');
    assert.equal(text, `${realLine(s)}\n`, 'one plain line, OpenSSH format');
    const out = execFileSync('ssh-keygen', ['-F', `[127.0.0.1]:${s.port}`, '-l', '-f', file], { encoding: 'utf8' });
    assert.ok(out.includes(s.hostKeyFingerprint), `OpenSSH finds it: ${out}`);
    assert.ok(bridge.logs().some((l) => l.event === 'host_key_stored' && l.fingerprint === s.hostKeyFingerprint));

    const again = await v1Auth(url(bridge, s), s);
    await again.waitForControl(isType('ready'), 15_000);
    assert.ok(!again.controls().some(isType('hostkey')), 'the second connection is not asked');
    again.close();
    await again.closed;

    // A restarted bridge reads it back: strict now works.
    const restarted = await startBridge(['--known-hosts', file, '--system-known-hosts', join(dir, 'none'), '--host-key-policy', 'strict']);
    t.after(() => restarted.close());
    await provesShell(await seedLogin(restarted, s), false);
  });

  void it('tofu v1: reject -> 4002 HOST_KEY_REJECTED, nothing stored, no login', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge, file } = await bridgeWith(t, []);
    const logins = sshdSawLogin(s);
    const ws = await v1Auth(url(bridge, s), s);
    await ws.waitForControl(isType('hostkey'), 15_000);
    ws.sendJson({ type: 'hostkey-reply', accept: false });
    const closed = await ws.closed;
    assert.equal(closed.code, 4002);
    assert.equal(closed.reason, 'HOST_KEY_REJECTED: host key rejected: rejected by the user');
    assert.deepEqual(ws.controls().filter(isType('error')), [{ type: 'error', code: 'HOST_KEY_REJECTED', message: 'host key rejected: rejected by the user' }]);
    assert.ok(!existsSync(file), 'nothing stored');
    assert.equal(sshdSawLogin(s), logins);
    // Still unknown: the next connection is asked again.
    const again = await v1Auth(url(bridge, s), s);
    await again.waitForControl(isType('hostkey'), 15_000);
    again.close();
    await again.closed;
  });

  void it('tofu v1: the question has its own deadline (ws-auth-timeout); the handshake timeout is paused while it is open', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    // A handshake deadline far shorter than the time the user takes to answer.
    const { bridge, file } = await bridgeWith(t, ['--ssh-handshake-timeout', '500ms', '--ws-auth-timeout', '3s']);
    const slow = await v1Auth(url(bridge, s), s);
    await slow.waitForControl(isType('hostkey'), 15_000);
    await new Promise((r) => setTimeout(r, 1200));
    slow.sendJson({ type: 'hostkey-reply', accept: true });
    await slow.waitForControl(isType('ready'), 15_000);
    await provesShell(slow, true);
    assert.ok(existsSync(file));

    const { bridge: b2, file: f2 } = await bridgeWith(t, ['--ws-auth-timeout', '400ms']);
    const silent = await v1Auth(url(b2, s), s);
    await silent.waitForControl(isType('hostkey'), 15_000);
    const closed = await silent.closed;
    assert.equal(closed.code, 4002);
    assert.equal(closed.reason, 'HOST_KEY_REJECTED: host key rejected: no answer within 400 ms');
    assert.ok(!existsSync(f2));
  });

  void it('a hostkey-reply nobody asked for is a protocol error', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge } = await bridgeWith(t, ['--host-key-policy', 'strict'], `${realLine(s)}\n`);
    const ws = await v1Auth(url(bridge, s), s);
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    const closed = await ws.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'PROTOCOL_ERROR: protocol error: unexpected hostkey-reply');
  });

  void it('tofu, seed client: 4002 HOST_KEY_UNKNOWN; with --compat-accept-new-host-keys it is accepted and stored', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge, file } = await bridgeWith(t, []);
    const ws = await seedLogin(bridge, s);
    const closed = await ws.closed;
    assert.equal(closed.code, 4002);
    assert.match(closed.reason, /^HOST_KEY_UNKNOWN: /);
    assert.ok(!existsSync(file));

    const { bridge: compat, file: compatFile } = await bridgeWith(t, ['--compat-accept-new-host-keys']);
    await provesShell(await seedLogin(compat, s), false);
    assert.equal(readFileSync(compatFile, 'utf8'), `${realLine(s)}\n`);
    assert.ok(compat.logs().some((l) => l.event === 'host_key_accepted' && l.answer === 'compat'));
  });

  void it('accept-new-insecure: works with a warning in the log, stores nothing', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge, file } = await bridgeWith(t, ['--host-key-policy', 'accept-new-insecure']);
    await provesShell(await seedLogin(bridge, s), false);
    const v1 = await v1Auth(url(bridge, s), s);
    await v1.waitForControl(isType('ready'), 15_000);
    assert.ok(!v1.controls().some(isType('hostkey')));
    await provesShell(v1, true);
    const warnings = bridge.logs().filter((l) => l.event === 'host_key_unverified');
    assert.equal(warnings.length, 2, 'one warning per connection');
    assert.equal(warnings[0]?.level, 40, 'logged at warn level');
    assert.equal(warnings[0]?.fingerprint, s.hostKeyFingerprint);
    assert.ok(!existsSync(file), 'nothing stored');
  });

  void it('concurrent accepts of two hosts: both lines end up in known_hosts', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const names = ['one.test', 'two.test', 'three.test'];
    const lookupFn: LookupFn = (host) => (names.includes(host) ? Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]) : Promise.reject(new Error('ENOTFOUND')));
    const { bridge, file } = await bridgeWith(t, [], undefined, lookupFn);
    const sockets = await Promise.all(names.map((n) => v1Auth(url(bridge, s, n), s)));
    await Promise.all(sockets.map((ws) => ws.waitForControl(isType('hostkey'), 15_000)));
    for (const ws of sockets) ws.sendJson({ type: 'hostkey-reply', accept: true }); // all at once
    await Promise.all(sockets.map((ws) => ws.waitForControl(isType('ready'), 15_000)));
    for (const ws of sockets) ws.close();
    await Promise.all(sockets.map((ws) => ws.closed));
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.equal(entries.length, names.length, readFileSync(file, 'utf8'));
    const key = Buffer.from(s.hostPublicKey.split(' ')[1] ?? '', 'base64');
    for (const n of names) assert.equal(lookup(entries, n, s.port, 'ssh-ed25519', key).status, 'match', n);
  });

  void it('no password reaches the logs of a host key session', async (t) => {
    const s = ready(t);
    if (s === undefined) return;
    const { bridge } = await bridgeWith(t, []);
    const ws = await v1Auth(url(bridge, s), s);
    await ws.waitForControl(isType('hostkey'), 15_000);
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    await provesShell(ws, true);
    assert.ok(!bridge.logText().includes(s.password));
  });
});
