/**
 * Sharing and files over a jumped session (issue 17), against real OpenSSH: a bastion sshd on
 * 127.0.0.1 and a target sshd on 127.0.0.3 that the bridge may not dial (`--deny-targets
 * 127.0.0.3`), so only the bastion reaches it (as test/integration/jump.test.ts).
 *
 * - a share link of the jumped session gives a viewer the owner's live output;
 * - a files token lists the target's home, and an upload then a download round-trip (sha256
 *   equal); the SFTP channel is the target's: the target's sshd logs its `sftp` subsystem
 *   request, the bastion's does not (both servers share the test account's home, so only the
 *   servers' own logs tell them apart).
 * Fails (never skips) under CI=true when sshd is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { call, filesToken, q } from '../helpers/files-client.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';
import { until, waitUntil } from '../helpers/until.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const HOME = '/home/uwsbtest';
const SFTP_REQUEST = /subsystem 'sftp'/;
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

void describe('sharing and files over a jumped session (real OpenSSH bastion and target)', () => {
  let bastion: SshdHandle | undefined;
  let target: SshdHandle | undefined;
  let bridge: BridgeHandle | undefined;

  before(async () => {
    if (!sshdAvailable()) return;
    bastion = await startSshd();
    target = await startSshd({ listenAddress: '127.0.0.3' });
    bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--deny-targets', '127.0.0.3']);
  });
  after(async () => {
    await bridge?.close(); // also the log scan: no registered secret in any log line
    await Promise.all([bastion?.stop(), target?.stop()]);
  });

  interface Env { bastion: SshdHandle; target: SshdHandle; bridge: BridgeHandle }
  const ready = (t: TestContext): Env | undefined => {
    if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return undefined;
    assert.ok(bastion && target && bridge, 'before() started the servers and the bridge');
    return { bastion, target, bridge };
  };
  const sessionUrl = (env: Env): string => `${env.bridge.wsBase}/ws/${env.target.host}/${env.target.port}`;

  /** A session on the target through the bastion, its shell ready (closed after the test). */
  async function jumped(t: TestContext, env: Env): Promise<TestWs> {
    const ws = await openWs(`${sessionUrl(env)}?jump=${env.bastion.host}:${env.bastion.port}`, { protocol: V1 });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: env.target.username, password: env.target.password, cols: 80, rows: 24, jump: [{ username: env.bastion.username, password: env.bastion.password }] });
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    ws.sendBinary(Buffer.from('echo "at=$(echo $SSH_CONNECTION | cut -d" " -f3)"\r'));
    await ws.waitForOutput('at=127.0.0.3', 15_000);
    return ws;
  }

  void it('a share link\'s viewer of a jumped session sees the owner\'s output', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const owner = await jumped(t, env);
    owner.sendJson({ type: 'share' });
    await owner.waitForControl(isType('shared'), 15_000);
    const shared = owner.controls().find(isType('shared')) as { token: string };
    registerSecret(shared.token);
    // The view link attaches to the session: its URL names the target, never the route.
    const viewer = await openWs(`${sessionUrl(env)}?share=${shared.token}`, { protocol: V1 });
    t.after(() => viewer.close());
    await viewer.waitForControl(isType('viewing'), 15_000);
    owner.sendBinary(Buffer.from('echo "seen-$((6*7))-$(echo $SSH_CONNECTION | cut -d" " -f3)"\r'));
    await viewer.waitForOutput('seen-42-127.0.0.3', 15_000);
    viewer.sendBinary(Buffer.from('echo viewer-typed\r'));
    owner.sendBinary(Buffer.from('echo after-viewer\r'));
    await owner.waitForOutput('after-viewer\r\n', 15_000);
    assert.ok(!owner.output().includes('viewer-typed'), 'a viewer is read-only');
  });

  void it('a files token lists the target\'s home and an upload and a download round-trip, on the target\'s SFTP channel', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    assert.doesNotMatch(env.target.log(), SFTP_REQUEST, 'no SFTP on the target before the test');
    const ws = await jumped(t, env);
    const token = await filesToken(ws);
    const base = env.bridge.url;
    const list = await call(base, 'GET', `api/files/list?${q({ path: '.' })}`, { token });
    assert.equal(list.status, 200, list.body.toString());
    assert.equal(list.json?.['path'], HOME);
    const names = (list.json?.['entries'] as Array<{ name: string }>).map((e) => e.name);
    assert.ok(names.includes('.bashrc'), names.join(','));

    const dir = `uwsb-jump-files-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(join(HOME, dir), { recursive: true, force: true }));
    assert.equal((await call(base, 'POST', `api/files/mkdir?${q({ path: dir })}`, { token })).status, 201);
    const data = randomBytes(512 * 1024 + 3);
    const up = await call(base, 'PUT', `api/files/upload?${q({ path: `${dir}/through.bin` })}`, { token, body: data });
    assert.equal(up.status, 201, up.body.toString());
    assert.equal(up.json?.['sha256'], sha(data));
    assert.equal(sha(readFileSync(join(HOME, dir, 'through.bin'))), sha(data));
    const link = await call(base, 'POST', `api/files/download-link?${q({ path: `${dir}/through.bin` })}`, { token });
    assert.equal(link.status, 200, link.body.toString());
    const url = String(link.json?.['url']);
    registerSecret(url.slice(url.indexOf('t=') + 2));
    const down = await call(base, 'GET', url.slice(1));
    assert.equal(down.status, 200);
    assert.equal(sha(down.body), sha(data));

    // The SFTP channel was opened on the target's link: its sshd started the subsystem,
    // the bastion's never (it only forwarded the connection).
    assert.ok(await waitUntil(() => Promise.resolve(SFTP_REQUEST.test(env.target.log())), 10_000, 100), `the target's sshd served sftp:\n${env.target.log()}`);
    assert.doesNotMatch(env.bastion.log(), SFTP_REQUEST, 'the bastion never served sftp');
    // A download's audit line is written when the bridge's side of the stream has ended (its SFTP
    // handle closed), which may come after the client has read the last byte.
    const audit = (): Array<Record<string, unknown>> => env.bridge.logs().filter((l) => l['event'] === 'file_transfer' && String(l['path']).startsWith(dir));
    await until(() => audit().length === 2, 'both transfers audited');
    assert.deepEqual(audit().map((l) => [l['direction'], l['result'], l['target']]), [['upload', 'ok', `127.0.0.3:${env.target.port}`], ['download', 'ok', `127.0.0.3:${env.target.port}`]]);
    assert.ok(!env.bridge.logText().includes(token), 'the token is never logged');
  });
});
