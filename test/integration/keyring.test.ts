/**
 * The keyring file (`--cluster-secret-file`, docs/scaling.md#keyring) through the real bridge:
 * - two nodes on one real Redis sharing one file: a share link and a file token made on node 1
 *   verify with node 2's keyring (the cross-node relay will lean on that), and keep doing so
 *   through a rotation on both; a node with another file refuses them;
 * - one node rotated by App.reload (what SIGHUP runs) with real viewers: an old link works while
 *   its key is listed and is refused SHARE_INVALID once it is removed; new links are signed with
 *   the new first key; a bad file keeps the keyring in force (`reload_failed`);
 * - the real CLI: a missing, too open or bad file, and `--cluster-redis` without one, stop the
 *   start with exit 2; under `--workers 2` SIGHUP rotates every worker; `new-secret` makes a line.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { ClusterSecretFile } from '../../src/auth/cluster-secret.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { verifyFilesToken } from '../../src/session/files-token.js';
import { verifyShareToken } from '../../src/share/share-token.js';
import type { BridgeHandle } from '../helpers/bridge.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { startNodes } from '../helpers/cluster-nodes.js';
import { setupFake } from '../helpers/fake-session.js';
import { call, filesToken } from '../helpers/files-client.js';
import { clusterKeyring, newTestKey, useKeyring, type KeyringHandle, type TestKey } from '../helpers/keyring.js';
import { useRedis } from '../helpers/redis.js';
import { registerSecret } from '../helpers/secrets.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;
const kidOf = (token: string): unknown => (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { kid?: unknown }).kid;

async function ownerOn(url: string, ssh: FakeSshHandle): Promise<TestWs> {
  const owner = await openWs(url, { protocol: V1 });
  owner.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 80, rows: 24 });
  await owner.waitForControl(isType('ready'));
  await owner.waitForOutput(FAKE_PROMPT);
  return owner;
}

/** A new link of the owner's session (a secret from now on). */
async function share(owner: TestWs): Promise<string> {
  const before = owner.controls().filter(isType('shared')).length;
  owner.sendJson({ type: 'share' });
  await owner.waitForControl(() => owner.controls().filter(isType('shared')).length > before);
  const { token } = owner.controls().filter(isType('shared')).at(-1) as { token: string };
  return registerSecret(token);
}

/** A viewer with this link: `viewing`, or the close (code and reason) it got instead. */
async function view(url: string, token: string): Promise<string> {
  const ws = await openWs(`${url}?share=${token}`, { protocol: V1 });
  const outcome = await Promise.race([ws.waitForControl(isType('viewing')).then(() => 'viewing'), ws.closed.then((c) => `${c.code} ${c.reason}`)]);
  ws.close(1000);
  await ws.closed;
  return outcome;
}

/** Write the keyring's new lines and reload every node (what SIGHUP does). */
async function rotate(file: KeyringHandle, keys: readonly TestKey[], nodes: readonly BridgeHandle[]): Promise<void> {
  file.write(keys);
  for (const node of nodes) await node.app.reload();
}

void describe('one keyring for the nodes of a cluster', () => {
  void it('a link and a file token made on node 1 verify on node 2, through a rotation; another keyring refuses them', async (t) => {
    const redis = await useRedis(t);
    if (redis === null) return;
    const ssh = await startFakeSsh();
    t.after(() => ssh.close());
    const keyring = clusterKeyring(t);
    const k1 = newTestKey('k1');
    const k2 = newTestKey('k2');
    keyring.write([k1]);
    const nodes = await startNodes(t, 2, redis.url);
    const [one, two] = nodes as [BridgeHandle, BridgeHandle];
    const owner = await ownerOn(`${one.wsBase}/ws/127.0.0.1/${ssh.port}`, ssh);
    const link = await share(owner);
    const files = registerSecret(await filesToken(owner));
    const now = Date.now();

    const claims = verifyShareToken(two.app.keyring, link, now);
    assert.ok(!('error' in claims), JSON.stringify(claims));
    assert.equal(claims.owner, workerOwner(0, 'gw-1'), 'the link names the node that holds the session');
    assert.equal(kidOf(link), 'k1');
    const fileClaims = verifyFilesToken(two.app.keyring, files, 'files', now);
    assert.ok(!('error' in fileClaims), JSON.stringify(fileClaims));

    // The keyring of another file (same id, another secret) cannot check them.
    const stranger = ClusterSecretFile.load(useKeyring(t, [newTestKey('k1')]).path);
    assert.deepEqual(verifyShareToken(stranger, link, now), { error: 'bad signature' });
    assert.deepEqual(verifyFilesToken(stranger, files, 'files', now), { error: 'bad signature' });

    // Rotation on both nodes: add k2 after k1, then put it first, then drop k1.
    await rotate(keyring, [k1, k2], nodes);
    assert.equal(kidOf(await share(owner)), 'k1', 'k2 is known everywhere before anyone signs with it');
    await rotate(keyring, [k2, k1], nodes);
    const fresh = await share(owner);
    assert.equal(kidOf(fresh), 'k2');
    assert.ok(!('error' in verifyShareToken(two.app.keyring, fresh, Date.now())));
    assert.ok(!('error' in verifyShareToken(two.app.keyring, link, Date.now())), 'k1 still listed');
    await rotate(keyring, [k2], nodes);
    assert.deepEqual(verifyShareToken(two.app.keyring, link, Date.now()), { error: 'unknown key' });
    assert.deepEqual(verifyFilesToken(two.app.keyring, files, 'files', Date.now()), { error: 'unknown key' });
    assert.ok(!('error' in verifyShareToken(two.app.keyring, fresh, Date.now())));
    owner.close(1000);
    await owner.closed;
  });
});

void describe('rotating the keyring of a running node (SIGHUP: App.reload)', () => {
  void it('an old link works while its key is listed and is refused once it is removed; new links use the new first key', async (t) => {
    const A = newTestKey('2026-01');
    const B = newTestKey('2026-06');
    const file = useKeyring(t, [A]);
    const { ssh, bridge, url } = await setupFake(t, ['--cluster-secret-file', file.path]);
    assert.deepEqual(bridge.logs().find((l) => l['event'] === 'keyring_loaded')?.['keys'], ['2026-01']);
    const owner = await ownerOn(url, ssh);
    const old = await share(owner);
    const oldFiles = await filesToken(owner);
    assert.equal(kidOf(old), '2026-01');
    assert.equal(await view(url, old), 'viewing');

    // B first, A still listed: A's link goes on working, new links are B's.
    file.write([B, A]);
    await bridge.app.reload();
    const reloaded = bridge.logs().filter((l) => l['event'] === 'keyring_reloaded').at(-1);
    assert.deepEqual([reloaded?.['current'], reloaded?.['keys']], ['2026-06', ['2026-06', '2026-01']]);
    assert.deepEqual(bridge.logs().filter((l) => l['event'] === 'reloaded').at(-1)?.['reloaded'], ['cluster-secret-file']);
    const fresh = await share(owner);
    assert.equal(kidOf(fresh), '2026-06');
    assert.equal(await view(url, old), 'viewing');
    assert.equal(await view(url, fresh), 'viewing');

    // A broken file: the reload fails, the keyring in force stays.
    writeFileSync(file.path, `2026-06 ${B.secret}\nthis line is broken\n`);
    await assert.rejects(bridge.app.reload(), /cluster-secret-file .* line 2: expected "ID SECRET"/);
    const failed = bridge.logs().filter((l) => l['event'] === 'reload_failed').at(-1);
    assert.match(String(failed?.['error']), /line 2/);
    assert.equal(await view(url, old), 'viewing');

    // A removed: its links and file tokens stop; B's work.
    file.write([B]);
    await bridge.app.reload();
    assert.match(await view(url, old), /^4009 SHARE_INVALID/);
    assert.ok(bridge.logs().some((l) => l['event'] === 'viewer_refused' && l['why'] === 'unknown key'));
    assert.equal(await view(url, fresh), 'viewing');
    const refusedFiles = await call(bridge.url, 'GET', 'api/files/list?path=.', { token: oldFiles });
    assert.deepEqual([refusedFiles.status, refusedFiles.json?.['code']], [401, 'FILES_TOKEN_INVALID']);
    const newFiles = await filesToken(owner);
    assert.equal(kidOf(newFiles), '2026-06');
    // The fake server has no SFTP: a token that passes the check gets as far as the channel.
    const passed = await call(bridge.url, 'GET', 'api/files/list?path=.', { token: newFiles });
    assert.notEqual(passed.json?.['code'], 'FILES_TOKEN_INVALID', JSON.stringify(passed.json));
    owner.close(1000);
    await owner.closed;
  });
});

void describe('the keyring file and the CLI', () => {
  const base = ['--server-address', '127.0.0.1:0', '--workers', '1'];

  void it('a missing, too open or bad file stops the start with exit 2, naming the file, never a secret', (t) => {
    const key = newTestKey('k1');
    const file = useKeyring(t, [key]);
    const missing = runCli([...base, '--cluster-secret-file', `${file.path}.missing`]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /^webssh-bridge: cluster-secret-file .*keyring\.missing: cannot read \(ENOENT\)\n$/);
    writeFileSync(file.path, `k1 ${key.secret.slice(0, 40)}\n`);
    const short = runCli([...base, '--cluster-secret-file', file.path]);
    assert.equal(short.status, 2, short.stderr);
    assert.match(short.stderr, /line 1: the secret is 30 bytes; at least 32 random bytes are needed/);
    if (process.getuid !== undefined) {
      file.write([key]);
      chmodSync(file.path, 0o640);
      for (const workers of ['1', '2']) {
        const open = runCli([...base.slice(0, 2), '--workers', workers, '--cluster-secret-file', file.path]);
        assert.equal(open.status, 2, open.stderr);
        assert.match(open.stderr, /^webssh-bridge: cluster-secret-file .*: permissions 0640 are too open.*chmod 600\)\n$/, `--workers ${workers}: one message`);
      }
    }
  });

  void it('--cluster-redis without a keyring file is a configuration error', () => {
    const r = runCli([...base, '--cluster-redis', 'redis://127.0.0.1:1']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /option cluster-secret-file \(--cluster-secret-file \/ UWSB_CLUSTER_SECRET_FILE\): expected a keyring file when cluster-redis is set/);
  });

  void it('new-secret prints a key line', () => {
    const r = runCli(['new-secret', 'gw-2026']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^gw-2026 [A-Za-z0-9_-]{43}\n$/);
    assert.equal(runCli(['new-secret', 'bad id']).status, 2);
  });

  void it('under --workers 2, SIGHUP rotates every worker: an old link is refused once its key is gone', async (t: TestContext) => {
    const A = newTestKey('a');
    const B = newTestKey('b');
    const file = useKeyring(t, [A]);
    const ssh = await startFakeSsh();
    t.after(() => ssh.close());
    const cli = spawnCli(['--workers', '2', '--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure', '--cluster-secret-file', file.path]);
    t.after(() => cli.close());
    const line = await cli.waitForLog((l) => l['event'] === 'listening' && l['workers'] === 2, 30_000);
    assert.equal(cli.logs().filter((l) => l['event'] === 'keyring_loaded').length, 2, 'each worker loads the file');
    const url = `ws://127.0.0.1:${String(line['port'])}/ws/127.0.0.1/${ssh.port}`;
    const owner = await ownerOn(url, ssh);
    const old = await share(owner);
    assert.equal(await view(url, old), 'viewing');
    file.write([B]);
    cli.child.kill('SIGHUP');
    await cli.waitForLog(() => cli.logs().filter((l) => l['event'] === 'keyring_reloaded' && l['current'] === 'b').length === 2, 15_000);
    const fresh = await share(owner);
    assert.equal(kidOf(fresh), 'b');
    // Whichever worker a viewer reaches, the link goes to the owner's, which checks it.
    for (let i = 0; i < 2; i++) {
      assert.match(await view(url, old), /^4009 SHARE_INVALID/);
      assert.equal(await view(url, fresh), 'viewing');
    }
    owner.close(1000);
    await owner.closed;
  });
});
