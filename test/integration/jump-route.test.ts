/**
 * Operator routes (`--jump-route`, issue 17) against real OpenSSH: a bastion sshd on 127.0.0.1
 * that accepts only the route's key (publickey, its AuthorizedKeysFile), and a target sshd on
 * 127.0.0.3 the bridge may not dial (`--deny-targets 127.0.0.3`). The user logs in to the target
 * with a password and brings no `jump`; the bridge logs in to the bastion with the route's key.
 *
 * - a routed session's shell runs on the target, through the bastion (v1 and seed clients); a target no route matches
 *   goes direct (the bastion holds no session meanwhile); `?jump=` or `auth.jump` for a routed
 *   target is BAD_JUMP;
 * - with `--target` and under tofu: the bastion's key question names hop 1;
 * - reload swaps the key: the bastion's authorized key is rewritten to a new key and the route's
 *   key file too; until App.reload() (what the SIGHUP handler of src/roles/single.ts and
 *   worker.ts calls) the bridge still offers the old key and hop 1 refuses it, after it the new
 *   key logs in; a key file that no longer parses keeps the loaded key and logs reload_failed;
 * - the built CLI re-reads the keys on a real SIGHUP (`reloaded` with jump-route-keys; a broken
 *   key file: `reload_failed` naming it, the process serving on);
 * - a bad spec or an unreadable key stops the CLI with exit 2 naming jump-route;
 * - the keys and the passphrase never appear in a log (every bridge's close() scans for them).
 * Fails (never skips) under CI=true when sshd is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';
import { waitUntil } from '../helpers/until.js';
import { expectHttpRejection, openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const PASSPHRASE = registerSecret('route-Key-passphrase-4');

interface Ctl { type?: string; [k: string]: unknown }
const ctl = (m: unknown): Ctl => m as Ctl;
const isType = (type: string) => (m: unknown): boolean => ctl(m).type === type;

void describe('operator routes through a real OpenSSH bastion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-jump-route-'));
  const keyFile = join(dir, 'route_key');
  const passFile = join(dir, 'route_pass');
  let keyA = '';
  let pubA = '';
  let keyB = '';
  let pubB = '';
  let bastion: SshdHandle | undefined;
  let target: SshdHandle | undefined;
  let other: SshdHandle | undefined;
  let bridge: BridgeHandle | undefined;
  let fixed: BridgeHandle | undefined;

  before(async () => {
    if (!sshdAvailable()) return;
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'route-a', '-f', join(dir, 'a')], { stdio: 'pipe' });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'route-b', '-f', join(dir, 'b')], { stdio: 'pipe' });
    keyA = registerSecret(readFileSync(join(dir, 'a'), 'utf8'));
    keyB = registerSecret(readFileSync(join(dir, 'b'), 'utf8'));
    pubA = readFileSync(join(dir, 'a.pub'), 'utf8');
    pubB = readFileSync(join(dir, 'b.pub'), 'utf8');
    copyFileSync(join(dir, 'a'), keyFile);
    writeFileSync(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    bastion = await startSshd({ authorizedKey: pubA });
    target = await startSshd({ listenAddress: '127.0.0.3' });
    other = await startSshd();
    const route = `127.0.0.3 via ${bastion.username}@127.0.0.1:${bastion.port} key=${keyFile} passphrase-file=${passFile}`;
    bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--deny-targets', '127.0.0.3', '--auth-ban-failures', '0', '--jump-route', route]);
    fixed = await startBridge(['--host-key-policy', 'tofu', '--deny-targets', '127.0.0.3', '--target', `127.0.0.3:${target.port}`], { env: { UWSB_JUMP_ROUTE: `*.nowhere.example via x@192.0.2.1 key=${keyFile} passphrase-file=${passFile}\n${route}` } });
  });
  after(async () => {
    await bridge?.close();
    await fixed?.close();
    await Promise.all([bastion?.stop(), target?.stop(), other?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  interface Env { bastion: SshdHandle; target: SshdHandle; other: SshdHandle; bridge: BridgeHandle; fixed: BridgeHandle }
  const ready = (t: TestContext): Env | undefined => {
    if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return undefined;
    assert.ok(bastion && target && other && bridge && fixed, 'before() started the servers and bridges');
    return { bastion, target, other, bridge, fixed };
  };
  const url = (b: BridgeHandle, s: SshdHandle): string => `${b.wsBase}/ws/${s.host}/${s.port}`;
  const auth = (ws: TestWs, s: SshdHandle, extra: Record<string, unknown> = {}): void =>
    ws.sendJson({ type: 'auth', username: s.username, password: s.password, cols: 80, rows: 24, ...extra });
  /** A routed session reaches the shell on the target (its own address in $SSH_CONNECTION). */
  const onTarget = async (ws: TestWs): Promise<void> => {
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    ws.sendBinary(Buffer.from('echo "at=$(echo $SSH_CONNECTION | cut -d" " -f3)"\r'));
    await ws.waitForOutput('at=127.0.0.3', 15_000);
    ws.close();
    await ws.closed;
  };

  void it('a routed target is reached through the bastion with the route\'s key; the user logs in to the target only', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(url(env.bridge, env.target), { protocol: V1 });
    auth(ws, env.target);
    const id = String((await ws.waitForControl(isType('ready'), 20_000) as { sessionId?: unknown }).sessionId);
    await onTarget(ws);
    assert.match(env.bastion.log(), /Accepted publickey for uwsbtest/, 'the bastion saw the route\'s key');
    // The session's lines name the bastion with the route's user.
    assert.ok(await waitUntil(() => env.bridge.logs().some((l) => l['event'] === 'session_end' && l['session'] === id), 15_000, 50), 'session_end logged');
    for (const event of ['session_start', 'session_end']) {
      const line: Record<string, unknown> | undefined = env.bridge.logs().find((l) => l['event'] === event && l['session'] === id);
      assert.deepEqual(line?.['route'], [`${env.bastion.username}@127.0.0.1:${env.bastion.port}`], `${event}: ${JSON.stringify(line)}`);
    }
  });

  void it('a seed client (no jump field at all) reaches a routed target too', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(url(env.bridge, env.target));
    ws.sendJson({ username: env.target.username, password: env.target.password });
    await ws.waitForOutput(TEST_PROMPT, 20_000);
    ws.sendBinary(Buffer.from('echo "at=$(echo $SSH_CONNECTION | cut -d" " -f3)"\r'));
    await ws.waitForOutput('at=127.0.0.3', 15_000);
    ws.close();
    await ws.closed;
  });

  void it('a target no route matches goes direct; ?jump= or auth.jump for a routed target is BAD_JUMP', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(url(env.bridge, env.other), { protocol: V1 });
    auth(ws, env.other);
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    assert.deepEqual(await env.bastion.userProcesses(), [], 'the bastion holds no session for a direct target');
    ws.close();
    await ws.closed;

    // Refused after DNS and policy: HTTP for a seed client, the error and a close for a v1 client.
    const jumped = `${url(env.bridge, env.target)}?jump=127.0.0.1:${env.other.port}`;
    const asked = await expectHttpRejection(jumped);
    assert.equal(asked.status, 400);
    assert.equal((asked.body as { code?: unknown }).code, 'BAD_JUMP');
    assert.match(String((asked.body as { message?: unknown }).message), /operator route/);
    const askedV1 = await openWs(jumped, { protocol: V1 });
    assert.equal(ctl(await askedV1.waitForControl(isType('error'), 20_000))['code'], 'BAD_JUMP');
    await askedV1.closed;
    const logins = await openWs(url(env.bridge, env.target), { protocol: V1 });
    auth(logins, env.target, { jump: [{ username: env.bastion.username, password: env.bastion.password }] });
    assert.equal(ctl(await logins.waitForControl(isType('error'), 20_000))['code'], 'BAD_JUMP');
    assert.equal((await logins.closed).code, 1008);
  });

  void it('with --target and under tofu, the bastion\'s key question names hop 1, then the target\'s', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(`${env.fixed.wsBase}/ws/ignored.example/22`, { protocol: V1 });
    auth(ws, env.target);
    const first = ctl(await ws.waitForControl(isType('hostkey'), 20_000));
    assert.deepEqual([first['host'], first['port'], first['hop'], first['fingerprint']], ['127.0.0.1', env.bastion.port, 1, env.bastion.hostKeyFingerprint]);
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    await ws.waitForControl((m) => isType('hostkey')(m) && ctl(m)['host'] === '127.0.0.3', 20_000);
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    await onTarget(ws);
  });

  void it('reload swaps the route\'s key; a key that no longer parses keeps the loaded one', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    // The bastion now accepts only key B, and the route's file holds it; the bridge still has A.
    writeFileSync(env.bastion.authorizedKeys, pubB);
    copyFileSync(join(dir, 'b'), keyFile);
    const stale = await openWs(url(env.bridge, env.target), { protocol: V1 });
    auth(stale, env.target);
    const refused = ctl(await stale.waitForControl(isType('error'), 20_000));
    assert.equal(refused['code'], 'SSH_AUTH_FAILED');
    assert.match(String(refused['message']), new RegExp(`hop 1 \\(127\\.0\\.0\\.1:${env.bastion.port}\\)`));
    await stale.closed;

    await env.bridge.app.reload();
    assert.ok(env.bridge.logs().some((l) => l['event'] === 'reloaded' && JSON.stringify(l['reloaded']).includes('jump-route-keys')));
    const fresh = await openWs(url(env.bridge, env.target), { protocol: V1 });
    auth(fresh, env.target);
    await onTarget(fresh);

    writeFileSync(keyFile, 'not a key any more\n');
    await assert.rejects(env.bridge.app.reload(), /jump-route key .*route_key: SSH_KEY_INVALID/);
    const failed = env.bridge.logs().find((l) => l['event'] === 'reload_failed');
    assert.match(String(failed?.['error']), /route_key/);
    const kept = await openWs(url(env.bridge, env.target), { protocol: V1 });
    auth(kept, env.target);
    await onTarget(kept);

    for (const secret of [keyA, keyB, PASSPHRASE]) assert.ok(!env.bridge.logText().includes(secret), 'no key or passphrase in the log');
    writeFileSync(env.bastion.authorizedKeys, `${pubA}${pubB}`);
  });

  void it('a bad route spec or an unreadable key stops the start with exit 2 naming jump-route', () => {
    const cases: Array<[string, RegExp]> = [
      ['*.lab via bastion key=/k', /jump-route.*needs a user/],
      ['*.lab via ops@bastion', /jump-route.*key=FILE is required/],
      [`*.lab via ops@bastion key=${join(dir, 'missing')}`, /jump-route.*missing: ENOENT/],
    ];
    for (const [spec, pattern] of cases) {
      const r = runCli(['--server-address', '127.0.0.1:0', '--workers', '1', '--jump-route', spec]);
      assert.equal(r.status, 2, `${spec}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
  });

  void it('the CLI re-reads the route keys on SIGHUP; a broken key file is logged and the old key kept', { timeout: 60_000 }, async (t) => {
    const file = join(dir, 'cli_key');
    copyFileSync(join(dir, 'b'), file);
    const cli = spawnCli(['--server-address', '127.0.0.1:0', '--workers', '1', '--jump-route', `*.lab via ops@192.0.2.1 key=${file}`]);
    t.after(() => cli.close());
    await cli.listening(20_000);
    writeFileSync(file, 'garbage\n');
    cli.child.kill('SIGHUP');
    const failed = await cli.waitForLog((l) => l['event'] === 'reload_failed', 20_000);
    assert.match(String(failed['error']), /jump-route key .*cli_key: SSH_KEY_INVALID/);
    copyFileSync(join(dir, 'a'), file);
    cli.child.kill('SIGHUP');
    const failedAgain = await cli.waitForLog((l) => l !== failed && l['event'] === 'reload_failed', 20_000);
    assert.match(String(failedAgain['error']), /cli_key: SSH_KEY_PASSPHRASE/, 'an encrypted key without its passphrase-file is refused too');
    copyFileSync(join(dir, 'b'), file);
    cli.child.kill('SIGHUP');
    const reloaded = await cli.waitForLog((l) => l['event'] === 'reloaded', 20_000);
    assert.deepEqual(reloaded['reloaded'], ['jump-route-keys']);
  });
});
