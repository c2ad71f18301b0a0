/**
 * Three jump hosts' worth of route (issue 17), against real OpenSSH: hop 1 on 127.0.0.2, hop 2 on
 * 127.0.0.4 and the target on 127.0.0.5, each its own sshd with `AllowTcpForwarding yes`. The
 * bridge may dial only hop 1 (`--deny-targets 127.0.0.4,127.0.0.5`), so hop 2 is reached through
 * hop 1 and the target through hop 2.
 *
 * - a password on hop 1, an encrypted key on hop 2 and keyboard-interactive on the target log in;
 *   the shell is on the target, and the target's client is a socket of hop 2's sshd;
 * - under tofu an unknown key of hop 2 is asked with `hop: 2`; a changed key of hop 1 closes 4002
 *   naming hop 1; a hop 2 that does not forward is TARGET_UNREACHABLE naming hop 2;
 * - a refused password on hop 1 counts towards the auth ban;
 * - the session's end, and a client that vanishes without a close, leave no sshd session on any
 *   of the three servers.
 * Fails (never skips) under CI=true when sshd is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';
import { waitUntil } from '../helpers/until.js';
import { expectHttpRejection, openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const PASSPHRASE = registerSecret('hop2-Key-phrase-5');
const DENY = ['--deny-targets', '127.0.0.4,127.0.0.5'];

interface Ctl { type?: string; [k: string]: unknown }
const ctl = (m: unknown): Ctl => m as Ctl;
const isType = (type: string) => (m: unknown): boolean => ctl(m).type === type;

/** `127.0.0.1` as /proc/net/tcp writes it (`0100007F`), with the port (`:1F90`). */
function procAddress(ip: string, port: number): string {
  const hex = ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase()).reverse().join('');
  return `${hex}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** The inode of the TCP socket from `local` to `remote`, or undefined. */
function socketInode(local: { ip: string; port: number }, remote: { ip: string; port: number }): string | undefined {
  const [from, to] = [procAddress(local.ip, local.port), procAddress(remote.ip, remote.port)];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === from && f[2] === to) return f[9];
  }
  return undefined;
}

/** Whether one of `pids` holds the socket with `inode` open. */
function holdsSocket(pids: readonly number[], inode: string): boolean {
  for (const pid of pids) {
    let fds: string[] = [];
    try { fds = readdirSync(`/proc/${pid}/fd`); } catch { continue; }
    for (const fd of fds) {
      try { if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return true; } catch { /* closed meanwhile */ }
    }
  }
  return false;
}

void describe('three jump hosts through real OpenSSH', () => {
  let dir = '';
  let encKey = '';
  let hop1: SshdHandle | undefined;
  let hop2: SshdHandle | undefined;
  let hop2Closed: SshdHandle | undefined;
  let target: SshdHandle | undefined;
  let bridge: BridgeHandle | undefined;

  before(async () => {
    if (!sshdAvailable()) return;
    dir = mkdtempSync(join(tmpdir(), 'uwsb-jump3-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'hop2', '-f', join(dir, 'hop2')], { stdio: 'pipe' });
    encKey = readFileSync(join(dir, 'hop2'), 'utf8');
    registerSecret(encKey);
    for (const line of encKey.split('\n')) if (!line.startsWith('-----')) registerSecret(line);
    const encPub = readFileSync(join(dir, 'hop2.pub'), 'utf8').trim();
    [hop1, hop2, hop2Closed, target] = await Promise.all([
      startSshd({ listenAddress: '127.0.0.2', allowTcpForwarding: true }),
      startSshd({ listenAddress: '127.0.0.4', allowTcpForwarding: true, authorizedKey: encPub }),
      startSshd({ listenAddress: '127.0.0.4', allowTcpForwarding: false }),
      startSshd({ listenAddress: '127.0.0.5', allowTcpForwarding: true, pam: true }),
    ]);
    bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', ...DENY]);
  });
  after(async () => {
    await bridge?.close();
    await Promise.all([hop1?.stop(), hop2?.stop(), hop2Closed?.stop(), target?.stop()]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  interface Env { hop1: SshdHandle; hop2: SshdHandle; hop2Closed: SshdHandle; target: SshdHandle; bridge: BridgeHandle }
  const ready = (t: TestContext): Env | undefined => {
    if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return undefined;
    assert.ok(hop1 && hop2 && hop2Closed && target && bridge, 'before() started the servers and the bridge');
    return { hop1, hop2, hop2Closed, target, bridge };
  };
  /** A bridge of one test's own (closed after it). */
  const ownBridge = async (t: TestContext, flags: readonly string[]): Promise<BridgeHandle> => {
    const b = await startBridge(flags);
    t.after(() => b.close());
    return b;
  };
  const via = (b: BridgeHandle, to: SshdHandle, hops: readonly SshdHandle[]): string =>
    `${b.wsBase}/ws/${to.host}/${to.port}?jump=${hops.map((h) => `${h.host}:${h.port}`).join(',')}`;
  const password = (s: SshdHandle, pw = s.password): Record<string, unknown> => ({ username: s.username, password: pw });
  const publickey = (s: SshdHandle): Record<string, unknown> => ({ username: s.username, method: 'publickey', privateKey: encKey, passphrase: PASSPHRASE });
  /** The whole route's logins: password on hop 1, the encrypted key on hop 2, keyboard-interactive on the target. */
  const authAll = (ws: TestWs, env: Env, hop1Login = password(env.hop1)): void =>
    ws.sendJson({ type: 'auth', username: env.target.username, method: 'keyboard-interactive', cols: 80, rows: 24, jump: [hop1Login, publickey(env.hop2)] });
  /** Answer the target's keyboard-interactive round (it names no hop) and wait for the shell. */
  const answerTarget = async (ws: TestWs, env: Env): Promise<void> => {
    const round = ctl(await ws.waitForControl(isType('prompt'), 20_000));
    assert.equal('hop' in round, false, `the target's round names no hop: ${JSON.stringify(round)}`);
    ws.sendJson({ type: 'prompt-reply', responses: [env.target.password] });
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
  };
  const noSessionsLeft = async (env: Env, when: string): Promise<void> => {
    for (const [name, s] of [['hop 1', env.hop1], ['hop 2', env.hop2], ['target', env.target]] as const) {
      assert.ok(await waitUntil(async () => (await s.userProcesses()).length === 0, 15_000, 100), `${when}: no sshd session left on ${name}: ${JSON.stringify(await s.userProcesses())}`);
    }
  };

  void it('password, encrypted key, keyboard-interactive: the shell is on the target, whose client is hop 2; closing leaves no session anywhere', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    for (const s of [env.hop2, env.target]) {
      const direct = await expectHttpRejection(`${env.bridge.wsBase}/ws/${s.host}/${s.port}`);
      assert.equal(direct.status, 403, `${s.host} straight from the bridge is denied`);
    }
    const ws = await openWs(via(env.bridge, env.target, [env.hop1, env.hop2]), { protocol: V1 });
    authAll(ws, env);
    await answerTarget(ws, env);
    ws.sendBinary(Buffer.from('echo "sc=[$SSH_CONNECTION]"\r'));
    await ws.waitForOutput(/sc=\[\S+ \d+ \S+ \d+\]/, 15_000);
    const m = /sc=\[(\S+) (\d+) (\S+) (\d+)\]/.exec(ws.output());
    assert.ok(m, ws.output());
    const [, clientIp = '', clientPort = '', serverIp = '', serverPort = ''] = m;
    assert.deepEqual([serverIp, Number(serverPort)], ['127.0.0.5', env.target.port], 'the shell runs on the target');
    const inode = socketInode({ ip: clientIp, port: Number(clientPort) }, { ip: serverIp, port: Number(serverPort) });
    assert.ok(inode !== undefined, `the target's client socket ${clientIp}:${clientPort} is in /proc/net/tcp`);
    assert.ok(holdsSocket(await env.hop2.userProcesses(), inode), 'the target\'s client is hop 2\'s sshd session (its direct-tcpip forward)');
    assert.ok(!holdsSocket(await env.hop1.userProcesses(), inode), 'and not hop 1\'s');
    assert.ok((await env.hop1.userProcesses()).length > 0, 'hop 1 holds a session (the forward to hop 2)');
    ws.close();
    await ws.closed;
    await noSessionsLeft(env, 'after the close');
  });

  void it('the route is named as user@host:port in order: session_start and session_end, the recording header, /stats by route kind', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const casts = join(dir, `casts_${Date.now()}`);
    const named = await ownBridge(t, ['--host-key-policy', 'accept-new-insecure', '--record-dir', casts, '--metrics-enabled', ...DENY]);
    const direct = await openWs(`${named.wsBase}/ws/${env.hop1.host}/${env.hop1.port}`, { protocol: V1 });
    direct.sendJson({ type: 'auth', ...password(env.hop1) });
    await direct.waitForControl(isType('ready'), 20_000);
    direct.close();
    await direct.closed;

    const ws = await openWs(via(named, env.target, [env.hop1, env.hop2]), { protocol: V1 });
    authAll(ws, env);
    await answerTarget(ws, env);
    const sessionId = String(ctl(ws.controls().find(isType('ready')))['sessionId']);
    ws.close();
    await ws.closed;
    const route = [`${env.hop1.username}@127.0.0.2:${env.hop1.port}`, `${env.hop2.username}@127.0.0.4:${env.hop2.port}`];
    const lines = (event: string): Array<Record<string, unknown>> => named.logs().filter((l) => l['event'] === event);
    assert.ok(await waitUntil(() => lines('session_end').length === 2 && lines('recording_finished').length === 2, 15_000, 50), 'both sessions ended and their recordings finished');
    for (const event of ['session_start', 'session_end']) {
      const [plain, jumped] = lines(event);
      assert.deepEqual(plain?.['route'], [], `${event}: a direct session has an empty route`);
      assert.deepEqual(jumped?.['route'], route, `${event} names the hops in order`);
      assert.equal(jumped?.['target'], `127.0.0.5:${env.target.port}`, `${event} names the target`);
      assert.equal(jumped?.['username'], env.target.username);
    }
    const cast = readdirSync(casts).find((n) => n.includes(sessionId) && n.endsWith('.cast'));
    assert.ok(cast !== undefined, `a recording of ${sessionId} in ${JSON.stringify(readdirSync(casts))}`);
    const header = JSON.parse(readFileSync(join(casts, cast), 'utf8').split('\n')[0] ?? '{}') as { title?: unknown; webssh_bridge?: Record<string, unknown> };
    assert.equal(header.title, `${env.target.username}@127.0.0.5:${env.target.port}`);
    assert.deepEqual(header.webssh_bridge?.['route'], route, 'the recording header names the hops in order');
    const stats = (await (await fetch(`${named.url}/stats`)).json()) as { routes?: unknown };
    assert.deepEqual(stats.routes, { direct: 1, jump: 1 }, '/stats counts the sessions by route kind');
    for (const secret of [env.hop1.password, PASSPHRASE]) assert.ok(!named.logText().includes(secret) && !readFileSync(join(casts, cast), 'utf8').split('\n')[0]?.includes(secret), 'no secret in the logs or the header');
  });

  void it('a client killed without a close leaves no sshd session on any hop', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(via(env.bridge, env.target, [env.hop1, env.hop2]), { protocol: V1 });
    authAll(ws, env);
    await answerTarget(ws, env);
    for (const s of [env.hop1, env.hop2, env.target]) assert.ok((await s.userProcesses()).length > 0, `${s.host} holds a session`);
    ws.ws.terminate(); // the TCP socket is destroyed: no close frame, as when the client is killed
    assert.equal((await ws.closed).code, 1006);
    await noSessionsLeft(env, 'after the client vanished');
  });

  void it('under tofu hop 2\'s unknown key is asked with hop 2; a changed key of hop 1 closes 4002 naming hop 1', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const tofu = await ownBridge(t, ['--host-key-policy', 'tofu', '--known-hosts', join(dir, `known_${Date.now()}`), '--system-known-hosts', join(dir, 'none'), ...DENY]);
    const ws = await openWs(via(tofu, env.target, [env.hop1, env.hop2]), { protocol: V1 });
    authAll(ws, env);
    const first = ctl(await ws.waitForControl(isType('hostkey'), 20_000));
    assert.deepEqual([first['host'], first['port'], first['hop'], first['fingerprint']], ['127.0.0.2', env.hop1.port, 1, env.hop1.hostKeyFingerprint]);
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    await ws.waitForControl((m) => isType('hostkey')(m) && ctl(m)['host'] === '127.0.0.4', 20_000);
    const second = ctl(ws.controls().filter(isType('hostkey'))[1]);
    assert.deepEqual([second['port'], second['hop'], second['fingerprint']], [env.hop2.port, 2, env.hop2.hostKeyFingerprint], 'the question names hop 2');
    ws.sendJson({ type: 'hostkey-reply', accept: false });
    const closed = await ws.closed;
    assert.equal(closed.code, 4002);
    assert.match(closed.reason, new RegExp(`^HOST_KEY_REJECTED: host key rejected: hop 2 \\(127\\.0\\.0\\.4:${env.hop2.port}\\)`));

    // A known_hosts that stores another key for hop 1.
    const other = join(dir, `other_${Date.now()}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other], { stdio: 'pipe' });
    const [type = '', base64 = ''] = readFileSync(`${other}.pub`, 'utf8').trim().split(' ');
    const wrong = execFileSync('ssh-keygen', ['-lf', `${other}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
    const known = join(dir, `known_changed_${Date.now()}`);
    writeFileSync(known, `[127.0.0.2]:${env.hop1.port} ${type} ${base64}\n`);
    const changedBridge = await ownBridge(t, ['--host-key-policy', 'tofu', '--known-hosts', known, '--system-known-hosts', join(dir, 'none'), ...DENY]);
    const changed = await openWs(via(changedBridge, env.target, [env.hop1, env.hop2]), { protocol: V1 });
    authAll(changed, env);
    const error = ctl(await changed.waitForControl(isType('error'), 20_000));
    assert.equal(error['code'], 'HOST_KEY_CHANGED');
    assert.equal(error['message'], `host key changed: hop 1 (127.0.0.2:${env.hop1.port}): stored ${wrong} presented ${env.hop1.hostKeyFingerprint}`);
    const changedClose = await changed.closed;
    assert.equal(changedClose.code, 4002);
    assert.equal(changedClose.reason, `HOST_KEY_CHANGED: host key changed: hop 1: presented ${env.hop1.hostKeyFingerprint} differs from stored`, 'the close reason names hop 1 and keeps the whole fingerprint');
    assert.ok(!changed.controls().some(isType('hostkey')), 'a changed key is never asked');
    await noSessionsLeft(env, 'after the refusals');
  });

  void it('a hop 2 that does not forward: TARGET_UNREACHABLE naming hop 2', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(via(env.bridge, env.target, [env.hop1, env.hop2Closed]), { protocol: V1 });
    ws.sendJson({ type: 'auth', username: env.target.username, method: 'keyboard-interactive', jump: [password(env.hop1), password(env.hop2Closed)] });
    const error = ctl(await ws.waitForControl(isType('error'), 20_000));
    assert.equal(error['code'], 'TARGET_UNREACHABLE');
    assert.match(String(error['message']), new RegExp(`^target unreachable: hop 2 \\(127\\.0\\.0\\.4:${env.hop2Closed.port}\\): forward to 127\\.0\\.0\\.5:${env.target.port} refused`));
    assert.equal((await ws.closed).code, 4003);
    for (const s of [env.hop1, env.hop2Closed]) {
      assert.ok(await waitUntil(async () => (await s.userProcesses()).length === 0, 15_000, 100), `no session left on ${s.host}:${s.port}`);
    }
  });

  void it('a refused password on hop 1 counts towards the auth ban', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const banning = await ownBridge(t, ['--host-key-policy', 'accept-new-insecure', '--auth-ban-failures', '2', '--auth-ban-duration', '1m', ...DENY]);
    const url = via(banning, env.target, [env.hop1, env.hop2]);
    const errors: Ctl[] = [];
    for (let i = 0; i < 2; i++) {
      const ws = await openWs(url, { protocol: V1 });
      authAll(ws, env, password(env.hop1, 'not-the-password'));
      const error = ctl(await ws.waitForControl(isType('error'), 20_000));
      assert.equal(error['code'], 'SSH_AUTH_FAILED');
      assert.match(String(error['message']), new RegExp(`hop 1 \\(127\\.0\\.0\\.2:${env.hop1.port}\\)`));
      errors.push(error);
      assert.equal((await ws.closed).code, 4001);
    }
    assert.equal(errors[0]?.['attemptsLeft'], 1, 'the first refusal leaves one attempt');
    assert.equal(errors[1]?.['attemptsLeft'], 0, 'the second is the last');
    const refused = await expectHttpRejection(url);
    assert.equal(refused.status, 429);
    assert.equal((refused.body as { code?: unknown }).code, 'AUTH_BANNED');
  });
});
