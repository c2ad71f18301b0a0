/**
 * Jump hosts (issue 17), against real OpenSSH: a bastion sshd on 127.0.0.1 and a target sshd on
 * 127.0.0.3, which the bridge may not dial (`--deny-targets 127.0.0.3`), so only the bastion can
 * reach it. A v1 client names the route in the URL (`?jump=127.0.0.1:PORT`) and each hop's login
 * in `auth.jump`.
 *
 * - the shell runs on the target, reached through the bastion (`$SSH_CONNECTION` shows the
 *   target's own address), while the same target straight from the bridge is refused;
 * - a refused password on hop 1 is SSH_AUTH_FAILED naming the hop; a bastion that does not
 *   forward is TARGET_UNREACHABLE naming the hop; a route and logins that do not match, and a
 *   malformed `?jump=`, are BAD_JUMP;
 * - under tofu each unknown key is its own question, the bastion's carrying `hop: 1`;
 * - closing the session leaves no sshd session on either server.
 * Fails (never skips) under CI=true when sshd is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';
import { waitUntil } from '../helpers/until.js';
import { expectHttpRejection, openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';

interface Ctl { type?: string; [k: string]: unknown }
const ctl = (m: unknown): Ctl => m as Ctl;
const isType = (type: string) => (m: unknown): boolean => ctl(m).type === type;

void describe('jump hosts through a real OpenSSH bastion', () => {
  let bastion: SshdHandle | undefined;
  let closed: SshdHandle | undefined;
  let pamBastion: SshdHandle | undefined;
  let target: SshdHandle | undefined;
  let bridge: BridgeHandle | undefined;
  let tofu: BridgeHandle | undefined;

  before(async () => {
    if (!sshdAvailable()) return;
    bastion = await startSshd();
    closed = await startSshd({ allowTcpForwarding: false });
    pamBastion = await startSshd({ pam: true });
    target = await startSshd({ listenAddress: '127.0.0.3' });
    bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--deny-targets', '127.0.0.3']);
    tofu = await startBridge(['--host-key-policy', 'tofu', '--deny-targets', '127.0.0.3']);
  });
  after(async () => {
    await bridge?.close();
    await tofu?.close();
    await Promise.all([bastion?.stop(), closed?.stop(), pamBastion?.stop(), target?.stop()]);
  });

  interface Env { bastion: SshdHandle; closed: SshdHandle; pamBastion: SshdHandle; target: SshdHandle; bridge: BridgeHandle; tofu: BridgeHandle }
  const ready = (t: TestContext): Env | undefined => {
    if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return undefined;
    assert.ok(bastion && closed && pamBastion && target && bridge && tofu, 'before() started the servers and bridges');
    return { bastion, closed, pamBastion, target, bridge, tofu };
  };
  const via = (b: BridgeHandle, target: SshdHandle, hops: readonly SshdHandle[]): string =>
    `${b.wsBase}/ws/${target.host}/${target.port}?jump=${hops.map((h) => `${h.host}:${h.port}`).join(',')}`;
  const login = (s: SshdHandle, password = s.password): Record<string, unknown> => ({ username: s.username, password });
  const auth = (ws: TestWs, target: SshdHandle, hops: ReadonlyArray<Record<string, unknown>>): void =>
    ws.sendJson({ type: 'auth', ...login(target), cols: 80, rows: 24, jump: hops });

  void it('reaches a target only the bastion can reach; the shell is on the target; closing leaves no session anywhere', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    // Refusals before the upgrade are HTTP for a seed client (v1 clients get them as close codes).
    const direct = await expectHttpRejection(`${env.bridge.wsBase}/ws/${env.target.host}/${env.target.port}`);
    assert.equal(direct.status, 403, 'straight from the bridge the target is denied');

    const ws = await openWs(via(env.bridge, env.target, [env.bastion]), { protocol: V1 });
    auth(ws, env.target, [login(env.bastion)]);
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    ws.sendBinary(Buffer.from('echo "at=$(echo $SSH_CONNECTION | cut -d" " -f3)"\r'));
    await ws.waitForOutput('at=127.0.0.3', 15_000);
    assert.ok((await env.bastion.userProcesses()).length > 0, 'the bastion holds a session (the forward)');
    ws.close();
    await ws.closed;
    for (const [name, s] of [['bastion', env.bastion], ['target', env.target]] as const) {
      assert.ok(await waitUntil(async () => (await s.userProcesses()).length === 0, 15_000, 100), `no sshd session left on the ${name}: ${JSON.stringify(await s.userProcesses())}`);
    }
  });

  void it('a refused password on hop 1 names the hop; a bastion that does not forward names the hop', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const wrong = await openWs(via(env.bridge, env.target, [env.bastion]), { protocol: V1 });
    auth(wrong, env.target, [login(env.bastion, 'not-the-password')]);
    const refused = ctl(await wrong.waitForControl(isType('error'), 20_000));
    assert.equal(refused['code'], 'SSH_AUTH_FAILED');
    assert.match(String(refused['message']), new RegExp(`hop 1 \\(127\\.0\\.0\\.1:${env.bastion.port}\\)`));
    assert.equal((await wrong.closed).code, 4001);

    const nofwd = await openWs(via(env.bridge, env.target, [env.closed]), { protocol: V1 });
    auth(nofwd, env.target, [login(env.closed)]);
    const unreachable = ctl(await nofwd.waitForControl(isType('error'), 20_000));
    assert.equal(unreachable['code'], 'TARGET_UNREACHABLE');
    assert.match(String(unreachable['message']), new RegExp(`hop 1 \\(127\\.0\\.0\\.1:${env.closed.port}\\)`));
    await nofwd.closed;
    assert.ok(await waitUntil(async () => (await env.closed.userProcesses()).length === 0, 15_000, 100), 'the refusing bastion\'s session is closed too');
  });

  void it('a route and its logins must match, and ?jump= must be well formed (BAD_JUMP)', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const missing = await openWs(via(env.bridge, env.target, [env.bastion]), { protocol: V1 });
    auth(missing, env.target, []);
    assert.equal(ctl(await missing.waitForControl(isType('error'), 20_000))['code'], 'BAD_JUMP');
    assert.equal((await missing.closed).code, 1008);
    const extra = await openWs(`${env.bridge.wsBase}/ws/127.0.0.1/${env.bastion.port}`, { protocol: V1 });
    auth(extra, env.bastion, [login(env.bastion)]);
    assert.equal(ctl(await extra.waitForControl(isType('error'), 20_000))['code'], 'BAD_JUMP');
    for (const bad of ['', 'a:1,b:2,c:3,d:4', 'bastion:0', 'ba stion:22', '[::1:22', 'user@h:22']) {
      const r = await expectHttpRejection(`${env.bridge.wsBase}/ws/127.0.0.3/22?jump=${encodeURIComponent(bad)}`, { protocol: V1 });
      assert.equal(r.status, 400, `?jump=${bad}`);
      assert.equal((r.body as { code?: unknown }).code, 'BAD_JUMP', `?jump=${bad}: ${JSON.stringify(r.body)}`);
    }
    const beyond = await expectHttpRejection(`${env.bridge.wsBase}/ws/169.254.169.254/22?jump=127.0.0.1:${env.bastion.port}`);
    assert.equal(beyond.status, 403, 'a metadata address behind the bastion is still refused');
    assert.match(String((beyond.body as { message?: unknown }).message), /target: 169\.254\.169\.254 is in a denied range/);
  });

  void it('keyboard-interactive on a jump host: its rounds name the hop, the answer logs in to it', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(via(env.bridge, env.target, [env.pamBastion]), { protocol: V1 });
    auth(ws, env.target, [{ username: env.pamBastion.username, method: 'keyboard-interactive' }]);
    const round = ctl(await ws.waitForControl(isType('prompt'), 20_000));
    assert.equal(round['hop'], 1, `the round names hop 1: ${JSON.stringify(round)}`);
    ws.sendJson({ type: 'prompt-reply', responses: [env.pamBastion.password] });
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    ws.close();
    await ws.closed;
  });

  void it('under tofu each unknown key is its own question: the bastion\'s names hop 1, the target\'s no hop', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(via(env.tofu, env.target, [env.bastion]), { protocol: V1 });
    auth(ws, env.target, [login(env.bastion)]);
    const first = ctl(await ws.waitForControl(isType('hostkey'), 20_000));
    assert.deepEqual([first['host'], first['port'], first['hop'], first['fingerprint']], ['127.0.0.1', env.bastion.port, 1, env.bastion.hostKeyFingerprint]);
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    await ws.waitForControl((m) => isType('hostkey')(m) && ctl(m)['host'] === '127.0.0.3', 20_000);
    const second = ctl(ws.controls().filter(isType('hostkey'))[1]);
    assert.deepEqual([second['port'], 'hop' in second, second['fingerprint']], [env.target.port, false, env.target.hostKeyFingerprint]);
    ws.sendJson({ type: 'hostkey-reply', accept: true });
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    ws.close();
    await ws.closed;
  });
});
