/**
 * Recordings across the nodes of a cluster (`--cluster-redis`, one `--record-dir` shared by all):
 * three in-process nodes and a fourth, the CLI in its own process, on one real redis-server, each
 * recording a real session (the in-process ssh2 server) into the same directory. Every file names
 * its node; node 2's recordings API lists all of them with their node, plays one node 3 wrote, and
 * says which are live: its own by process, the other nodes' by their markers' heartbeat (touched
 * every third of --cluster-lease, stale after the lease), so a node killed with -9 stops counting
 * within the lease, and a marker whose node stopped touching it long ago is not live.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newToken } from '../../src/auth/tokens.js';
import { formatMarker, liveMarkerName, markerTiming } from '../../src/record/live-marker.js';
import type { BridgeHandle } from '../helpers/bridge.js';
import { spawnCli } from '../helpers/cli.js';
import { startNodes, STEADY_LEASE_MS } from '../helpers/cluster-nodes.js';
import { keyringFlags } from '../helpers/keyring.js';
import { useRedis } from '../helpers/redis.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh } from '../helpers/ssh-server.js';
import { until } from '../helpers/until.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
/** The nodes' marker timing: the lease of startNodes (6 s): a touch every 2 s, stale after 6 s. */
const TIMING = markerTiming(STEADY_LEASE_MS);

interface Entry { name: string; node: string | null; live: boolean; sessionId: string | null; size: number }

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-recnodes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function get(base: string, path: string, token: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { Authorization: `Bearer ${token}`, Connection: 'close' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function listing(base: string, token: string): Promise<Entry[]> {
  const res = await get(base, '/api/recordings', token);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { recordings: Entry[] }).recordings;
}

const entryOf = (entries: Entry[], sessionId: string): Entry | undefined => entries.find((e) => e.name.endsWith(`-${sessionId}.cast`));

/** Log in on `wsUrl` (v1, the admin token on the upgrade), wait for the shell, type a line naming the node. */
async function openSession(wsUrl: string, ssh: { username: string; password: string }, token: string, node: string): Promise<{ ws: TestWs; sessionId: string }> {
  const ws = await openWs(wsUrl, { protocol: V1, headers: { Authorization: `Bearer ${token}` } });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 80, rows: 24 });
  const ready = (await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { sessionId: string };
  await ws.waitForOutput(FAKE_PROMPT);
  ws.sendBinary(Buffer.from(`hello-from-${node}\r`));
  await ws.waitForOutput(`hello-from-${node}`);
  return { ws, sessionId: ready.sessionId };
}

async function endSession(ws: TestWs): Promise<void> {
  ws.sendBinary(Buffer.from('exit 0\r'));
  assert.equal((await ws.closed).code, 1000);
}

void test('three nodes and a fourth record into one directory; node 2 lists, plays and tells live from ended for all', { timeout: 120_000 }, async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const base = tempDir(t);
  const dir = join(base, 'casts');
  const admin = newToken('ops', true);
  registerSecret(admin.token);
  const tokens = join(base, 'tokens');
  writeFileSync(tokens, `${admin.line}\n`);
  const token = admin.token;
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const flags = ['--record-dir', dir, '--auth-tokens', tokens, '--rate-whitelist', '127.0.0.1'];

  const nodes = await startNodes(t, 3, redis.url, flags);
  const [n1, n2, n3] = nodes as [BridgeHandle, BridgeHandle, BridgeHandle];
  // The fourth node, the CLI in a process of its own: the one killed with -9 below.
  const victim = spawnCli(['--server-address', '127.0.0.1:0', '--workers', '1', '--host-key-policy', 'accept-new-insecure', ...keyringFlags(t),
    '--cluster-redis', redis.url, '--node-id', 'node-4', '--cluster-lease', `${STEADY_LEASE_MS}ms`, ...flags]);
  t.after(() => victim.stop());
  const victimPort = await victim.listening();
  const target = `/ws/127.0.0.1/${ssh.port}`;

  const s1 = await openSession(`${n1.wsBase}${target}`, ssh, token, 'gw-1');
  const s2 = await openSession(`${n2.wsBase}${target}`, ssh, token, 'gw-2');
  const s3 = await openSession(`${n3.wsBase}${target}`, ssh, token, 'gw-3');
  const s3Started = Date.now();
  const s4 = await openSession(`ws://127.0.0.1:${victimPort}${target}`, ssh, token, 'node-4');
  await endSession(s1.ws);

  // A node that stopped long ago without cleaning up (killed, its host lost): its marker is still
  // there, naming a process id that runs here (this one), but nobody has touched it for a minute,
  // and node-9 holds no lease.
  const orphan = `20240102T030405Z-node-9-${'9'.repeat(32)}.cast`;
  writeFileSync(join(dir, orphan), '{"version":2,"width":80,"height":24,"timestamp":1704164645,"title":"u@h:22"}\n[0.5,"o","x"]\n', { mode: 0o600 });
  writeFileSync(join(dir, liveMarkerName(orphan)), formatMarker({ pid: process.pid, start: null }), { mode: 0o600 });
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(dir, liveMarkerName(orphan)), old, old);

  // Every file in the one directory names its node (a file is created a moment after its marker:
  // its stream opens asynchronously).
  await until(() => readdirSync(dir).filter((n) => n.endsWith('.cast')).length === 5, 'the five recordings\' files');
  const files = readdirSync(dir).filter((n) => n.endsWith('.cast')).sort();
  for (const [s, node] of [[s1, 'gw-1'], [s2, 'gw-2'], [s3, 'gw-3'], [s4, 'node-4']] as const) {
    assert.ok(files.some((f) => new RegExp(`^\\d{8}T\\d{6}Z-${node}-${s.sessionId}\\.cast$`).test(f)), `${node}'s file in ${JSON.stringify(files)}`);
  }

  // Node 2 lists them all with their nodes: its own by process, the others by their heartbeat.
  const state = (entries: Entry[]): Record<string, [string | null, boolean]> => Object.fromEntries(entries.map((e) => [e.sessionId ?? e.name, [e.node, e.live]]));
  const expected = { [s1.sessionId]: ['gw-1', false], [s2.sessionId]: ['gw-2', true], [s3.sessionId]: ['gw-3', true], [s4.sessionId]: ['node-4', true], [orphan]: ['node-9', false] };
  // Node 1's session has closed; its file is closed and its marker removed a moment later.
  await until(async () => entryOf(await listing(n2.url, token), s1.sessionId)?.live === false, 'node 1\'s ended recording to be no longer live');
  const onN2 = await listing(n2.url, token);
  assert.equal(onN2.length, 5);
  assert.deepEqual(state(onN2), expected);
  // Every node answers the same.
  for (const n of [n1, n3]) assert.deepEqual(state(await listing(n.url, token)), expected, n.url);

  // Node 2 plays a recording node 3 is still writing: its header and what was typed on node 3.
  const name3 = entryOf(onN2, s3.sessionId)?.name ?? '';
  let played = { status: 0, headers: {} as Record<string, unknown>, body: '' };
  await until(async () => {
    played = await get(n2.url, `/api/recordings/${name3}`, token);
    return played.status === 200 && played.body.includes('hello-from-gw-3');
  }, 'node 3\'s recording, played from node 2, to hold what was typed there');
  assert.equal(played.headers['content-disposition'], `attachment; filename="${name3}"`);
  const header = JSON.parse(played.body.slice(0, played.body.indexOf('\n'))) as { version: number; webssh_bridge: { session: string } };
  assert.deepEqual([header.version, header.webssh_bridge.session], [2, s3.sessionId]);

  // Node 4 is killed with -9: its marker stays, naming a process no node could check; node 2
  // stops calling the recording live once the marker is older than the lease (its last touch came
  // at most a third of the lease before the kill).
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  await victim.exited;
  await s4.ws.closed;
  const marker4 = join(dir, liveMarkerName(entryOf(onN2, s4.sessionId)?.name ?? ''));
  assert.ok(existsSync(marker4), 'the killed node left its marker');
  await until(async () => entryOf(await listing(n2.url, token), s4.sessionId)?.live === false, 'node 4\'s recording to stop being live', TIMING.staleMs + 10_000);
  const took = Date.now() - killedAt;
  t.diagnostic(`node 4's recording stopped being live ${took} ms after the kill (lease ${STEADY_LEASE_MS} ms)`);
  assert.ok(took <= TIMING.staleMs + 2500, `not live ${took} ms after the kill: within the lease (${TIMING.staleMs} ms), plus the listing's poll`);
  assert.ok(existsSync(marker4), 'still there: nobody removes another node\'s marker');
  for (const n of [n1, n3]) assert.equal(entryOf(await listing(n.url, token), s4.sessionId)?.live, false, n.url);

  // Node 3's recording stays live past the lease: its node keeps touching the marker.
  await sleep(Math.max(0, s3Started + TIMING.staleMs + TIMING.touchMs - Date.now()));
  const name3Marker = join(dir, liveMarkerName(name3));
  assert.ok(statSync(name3Marker).mtimeMs > s3Started + 500, 'node 3 touched its marker since the session began');
  assert.equal(entryOf(await listing(n2.url, token), s3.sessionId)?.live, true, 'live past the lease: the heartbeat keeps it');

  // Node 3's session ends: node 2 sees it ended, and the marker is gone.
  await endSession(s3.ws);
  await until(async () => entryOf(await listing(n2.url, token), s3.sessionId)?.live === false, 'node 3\'s recording to be ended');
  await until(() => !existsSync(name3Marker), 'node 3\'s marker to be removed');
  const last = state(await listing(n2.url, token));
  assert.deepEqual(last, { ...expected, [s3.sessionId]: ['gw-3', false], [s4.sessionId]: ['node-4', false] });
  await endSession(s2.ws);
});
