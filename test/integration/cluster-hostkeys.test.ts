/**
 * Host keys shared in Redis (`--cluster-redis`, `--host-key-policy tofu`): bridge nodes in this
 * process on one real redis-server, real v1 and seed WebSocket clients, the in-process ssh2
 * server (a fresh host key per server; a TCP proxy in front plays one address whose server, and
 * so whose key, is replaced). A key a user accepts on node 1 is known on node 2 (no question, a
 * seed client gets in); a different key at that address is HOST_KEY_CHANGED (4002) on both; two
 * nodes accepting different keys for one server at once: exactly one wins. Redis down: a key in
 * the node's own file still works, a key only Redis knows and a new key are refused
 * CLUSTER_UNAVAILABLE (1013), nothing stored. Under `--workers 2` the primary asks Redis for the
 * workers.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostKeyField, HOST_KEYS_KEY } from '../../src/redis/shared-keys.js';
import { sha256Fingerprint } from '../../src/ssh/known-hosts.js';
import type { BridgeHandle } from '../helpers/bridge.js';
import { spawnCli } from '../helpers/cli.js';
import { startNodes } from '../helpers/cluster-nodes.js';
import { keyringFlags } from '../helpers/keyring.js';
import { useRedis, type RedisHandle } from '../helpers/redis.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { until } from '../helpers/until.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';

interface Ctl { type?: string; [k: string]: unknown }
const ctl = (m: unknown): Ctl => m as Ctl;
const isType = (type: string) => (m: unknown): boolean => ctl(m).type === type;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-chk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function fakeSsh(t: TestContext): Promise<FakeSshHandle> {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  return ssh;
}

/** Nodes on `redis` (tofu, unless `policies` names another per node), each with its own known_hosts file (`files[i]`, not created) and no system file. */
async function tofuNodes(t: TestContext, n: number, redis: RedisHandle, dir: string, policies: readonly string[] = []): Promise<{ nodes: BridgeHandle[]; files: string[] }> {
  const files = Array.from({ length: n }, (_, i) => join(dir, `known_hosts_${i + 1}`));
  const nodes = await startNodes(t, n, redis.url, (i) => [
    '--host-key-policy', policies[i - 1] ?? 'tofu', '--known-hosts', files[i - 1] ?? '', '--system-known-hosts', join(dir, 'none'), '--rate-burst', '1000',
  ]);
  return { nodes, files };
}

function node(nodes: readonly BridgeHandle[], i: number): BridgeHandle {
  const n = nodes[i];
  assert.ok(n !== undefined);
  return n;
}

/** A v1 socket to `port` on 127.0.0.1 through `base`, upgraded (admitted), its login not yet sent. */
function v1Open(base: string, port: number): Promise<TestWs> {
  return openWs(`${base}/ws/127.0.0.1/${port}`, { protocol: V1 });
}

function v1Auth(ws: TestWs, ssh: FakeSshHandle): void {
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
}

/** A v1 login that is asked about the host key and accepts it: the fingerprint it was shown. */
async function acceptOn(base: string, port: number, ssh: FakeSshHandle): Promise<string> {
  const ws = await v1Open(base, port);
  v1Auth(ws, ssh);
  const q = ctl(await ws.waitForControl(isType('hostkey'), 15_000));
  assert.equal(q.status, 'unknown');
  ws.sendJson({ type: 'hostkey-reply', accept: true });
  await ws.waitForOutput(FAKE_PROMPT, 15_000);
  ws.close();
  await ws.closed;
  return String(q.fingerprint);
}

/** A v1 login that gets its shell without being asked about the host key. */
async function inWithoutQuestion(base: string, port: number, ssh: FakeSshHandle): Promise<void> {
  const ws = await v1Open(base, port);
  v1Auth(ws, ssh);
  await ws.waitForOutput(FAKE_PROMPT, 15_000);
  assert.ok(!ws.controls().some(isType('hostkey')), 'not asked: the key is known');
  ws.close();
  await ws.closed;
}

/** The record Redis holds for 127.0.0.1 on `port`, or null. */
async function record(redis: RedisHandle, port: number): Promise<string | null> {
  const reply = await redis.command('HGET', HOST_KEYS_KEY, hostKeyField('127.0.0.1', port));
  const m = /^\$(-?\d+)\r\n(.*)\r\n$/s.exec(reply);
  assert.ok(m !== null, reply);
  return m[1] === '-1' ? null : (m[2] ?? '');
}

const fingerprintOf = (rec: string): string => sha256Fingerprint(Buffer.from(rec.split(' ')[1] ?? '', 'base64'));

void test('tofu over 2 nodes: a key accepted on node 1 is known on node 2 (no question; a seed client gets in); a different key at that address is HOST_KEY_CHANGED (4002) on both', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const dir = tempDir(t);
  const first = await fakeSsh(t);
  const second = await fakeSsh(t);
  const proxy = await startTcpProxy(first.port);
  t.after(() => proxy.close());
  const { nodes, files } = await tofuNodes(t, 2, redis, dir);
  const base = (i: number): string => node(nodes, i).wsBase;

  const fp = await acceptOn(base(0), proxy.port, first);
  const rec = await record(redis, proxy.port);
  assert.ok(rec !== null && /^ssh-ed25519 [A-Za-z0-9+/]+=*$/.test(rec), `a public key, as a known_hosts line without its host: ${String(rec)}`);
  assert.equal(fingerprintOf(rec), fp, 'the key the user was shown');
  assert.equal(readFileSync(files[0] ?? '', 'utf8'), `[127.0.0.1]:${proxy.port} ${rec}\n`, 'node 1 also writes its own known_hosts, as on one node');
  assert.ok(node(nodes, 0).logs().some((l) => l.event === 'host_key_shared' && l.fingerprint === fp));

  await inWithoutQuestion(base(1), proxy.port, first);
  const seed = await openWs(`${base(1)}/ws/127.0.0.1/${proxy.port}`);
  seed.sendJson({ username: first.username, password: first.password });
  await seed.waitForOutput(FAKE_PROMPT, 15_000); // under tofu a seed client is refused an unknown key: this one is known
  seed.close();
  await seed.closed;
  assert.ok(!existsSync(files[1] ?? ''), 'node 2 wrote nothing of its own: it read the cluster\'s key');

  // The server at that address is replaced: another key.
  proxy.retarget(second.port);
  for (const i of [1, 0]) {
    const ws = await v1Open(base(i), proxy.port);
    v1Auth(ws, second);
    const closed = await ws.closed;
    assert.equal(closed.code, 4002, `node ${i + 1}: ${closed.reason}`);
    assert.match(closed.reason, /^HOST_KEY_CHANGED: host key changed: presented SHA256:\S+ differs from stored$/);
    const error = ctl(ws.controls().find(isType('error')));
    assert.equal(error.code, 'HOST_KEY_CHANGED');
    assert.ok(String(error.message).startsWith(`host key changed: stored ${fp} presented SHA256:`), String(error.message));
    assert.ok(!ws.controls().some(isType('hostkey')), 'a changed key is never offered');
  }
  assert.deepEqual(second.events.logins, [], 'no password reached the replaced server');
  const refused = node(nodes, 1).logs().find((l) => l.event === 'host_key_refused');
  assert.deepEqual((refused?.stored as Array<Record<string, unknown>> | undefined)?.map((s) => [s.fingerprint, s.file]), [[fp, 'redis']], 'node 2 names the cluster as where the key is stored');
  assert.equal(await record(redis, proxy.port), rec, 'the cluster keeps the key it had');
});

void test('two nodes accept different keys for one server at once: exactly one is stored, the other is HOST_KEY_CHANGED and writes nothing', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const dir = tempDir(t);
  const first = await fakeSsh(t);
  const second = await fakeSsh(t);
  const proxy = await startTcpProxy(first.port);
  t.after(() => proxy.close());
  const { nodes, files } = await tofuNodes(t, 2, redis, dir);
  // Node 1 is asked about the first server's key, node 2 (after the switch) about the second's.
  const asked: TestWs[] = [];
  const shown: string[] = [];
  for (const [i, ssh] of [first, second].entries()) {
    if (i === 1) proxy.retarget(second.port);
    const ws = await v1Open(node(nodes, i).wsBase, proxy.port);
    v1Auth(ws, ssh);
    shown.push(String(ctl(await ws.waitForControl(isType('hostkey'), 15_000)).fingerprint));
    asked.push(ws);
  }
  assert.notEqual(shown[0], shown[1]);
  for (const ws of asked) ws.sendJson({ type: 'hostkey-reply', accept: true }); // both at once
  const outcomes = await Promise.all(asked.map(async (ws) => {
    const done = await Promise.race([ws.waitForOutput(FAKE_PROMPT, 15_000).then(() => 'in'), ws.closed.then((c) => `${c.code} ${c.reason.split(':')[0] ?? ''}`)]);
    ws.close();
    await ws.closed;
    return done;
  }));
  assert.deepEqual([...outcomes].sort(), ['4002 HOST_KEY_CHANGED', 'in'], outcomes.join(', '));
  const winner = outcomes.indexOf('in');
  const rec = await record(redis, proxy.port);
  assert.ok(rec !== null);
  assert.equal(fingerprintOf(rec), shown[winner], 'Redis holds the winner\'s key');
  assert.ok(existsSync(files[winner] ?? ''), 'the winner wrote its file');
  assert.ok(!existsSync(files[1 - winner] ?? ''), 'the loser wrote nothing');
  assert.deepEqual([first, second][1 - winner]?.events.logins, [], 'and sent no password: the login waits for the key to be stored');
});

void test('Redis down: a key in the node\'s own file still works; a key only Redis knows is refused before dialing, and a new key after the answer, both CLUSTER_UNAVAILABLE (1013), nothing stored (accept-new-insecure goes on with its files); back, the new key is asked again', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const dir = tempDir(t);
  const known = await fakeSsh(t);
  const fresh = await fakeSsh(t);
  const { nodes, files } = await tofuNodes(t, 3, redis, dir, ['tofu', 'tofu', 'accept-new-insecure']);
  const base = (i: number): string => node(nodes, i).wsBase;
  await acceptOn(base(0), known.port, known);

  // Sockets admitted while Redis answers (admission itself fails closed); the new key's question is open.
  const inFile = await v1Open(base(0), known.port);
  const onlyInRedis = await v1Open(base(1), known.port);
  const insecure = await v1Open(base(2), known.port);
  const asked = await v1Open(base(1), fresh.port);
  v1Auth(asked, fresh);
  await asked.waitForControl(isType('hostkey'), 15_000);
  await redis.stop();

  v1Auth(inFile, known);
  await inFile.waitForOutput(FAKE_PROMPT, 15_000);
  assert.ok(!inFile.controls().some(isType('hostkey')));
  inFile.close();
  await inFile.closed;

  const dialed = known.events.connections;
  v1Auth(onlyInRedis, known);
  const refused = await onlyInRedis.closed;
  assert.equal(refused.code, 1013, refused.reason);
  assert.match(refused.reason, /^CLUSTER_UNAVAILABLE: /);
  assert.ok(!onlyInRedis.controls().some(isType('hostkey')), 'not asked: the cluster may know it as changed');
  assert.equal(known.events.connections, dialed, 'refused before the server was dialed');

  v1Auth(insecure, known); // accepts unknown keys anyway: checked against its own files only, with a warning
  await insecure.waitForOutput(FAKE_PROMPT, 15_000);
  insecure.close();
  await insecure.closed;
  assert.ok(node(nodes, 2).logs().some((l) => l.event === 'host_keys_cluster_skipped'));

  asked.sendJson({ type: 'hostkey-reply', accept: true });
  const notShared = await asked.closed;
  assert.equal(notShared.code, 1013, notShared.reason);
  assert.match(notShared.reason, /^CLUSTER_UNAVAILABLE: /);
  assert.deepEqual(fresh.events.logins, [], 'no login after a key that could not be shared');
  assert.ok(!existsSync(files[1] ?? ''), 'nothing written on node 2');
  assert.deepEqual(node(nodes, 1).logs().filter((l) => l.event === 'host_key_refused').map((l) => l.code), ['CLUSTER_UNAVAILABLE', 'CLUSTER_UNAVAILABLE']);
  await until(async () => /^webssh_bridge_sessions_total\{outcome="CLUSTER_UNAVAILABLE"\} 2$/m.test(await (await fetch(`${node(nodes, 1).url}/metrics`)).text()),
    'both refusals counted as session outcomes');

  await redis.restartEmpty();
  await until(async () => {
    try {
      const probe = await openWs(`${base(1)}/ws/127.0.0.1/${fresh.port}`); // a seed upgrade: refused over HTTP until admitted
      probe.close();
      await probe.closed;
      return true;
    } catch {
      return false;
    }
  }, 'node 2 to admit again (its next heartbeat registers it in the empty Redis)', 15_000);
  await acceptOn(base(1), fresh.port, fresh); // asked again: nothing was stored
  assert.ok(await record(redis, fresh.port) !== null);
});

void test('--workers 2 node (its primary asks Redis) and an in-process node: a key accepted on either is known on the other', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const dir = tempDir(t);
  const one = await fakeSsh(t);
  const two = await fakeSsh(t);
  const flags = ['--host-key-policy', 'tofu', '--system-known-hosts', join(dir, 'none'), '--rate-burst', '1000'];
  const cli = spawnCli(['--server-address', '127.0.0.1:0', '--workers', '2', '--cluster-redis', redis.url, '--node-id', 'workers', '--cluster-lease', '6000ms', ...keyringFlags(t),
    '--known-hosts', join(dir, 'known_hosts_workers'), ...flags]);
  t.after(() => cli.close());
  const port = await cli.listening();
  await cli.waitForLog((l) => l.event === 'cluster_start');
  const [other] = await startNodes(t, 1, redis.url, [...flags, '--known-hosts', join(dir, 'known_hosts_other')]);
  assert.ok(other !== undefined);
  const workers = `ws://127.0.0.1:${port}`;

  await acceptOn(workers, one.port, one); // shared by a worker, through the primary
  assert.ok(await record(redis, one.port) !== null);
  await inWithoutQuestion(other.wsBase, one.port, one);
  await acceptOn(other.wsBase, two.port, two);
  for (let i = 0; i < 2; i++) await inWithoutQuestion(workers, two.port, two); // each worker asks the primary
});
