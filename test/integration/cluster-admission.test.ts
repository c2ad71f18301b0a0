/**
 * Cluster admission in Redis (`--cluster-redis`): several bridge nodes on one real redis-server,
 * real WebSocket clients. The limits are exact across nodes under concurrent upgrades (with a
 * negative control: node-local gates overshoot in the same run), the counters return to 0, and
 * the counts stay right through the failures the lease is for.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { BridgeHandle } from '../helpers/bridge.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import { useRedis } from '../helpers/redis.js';
import { until } from '../helpers/until.js';
import { keyringFlags } from '../helpers/keyring.js';
import { closeAll, tally, startNodes as startClusterNodes, STEADY_LEASE_MS } from '../helpers/cluster-nodes.js';
import { spawnCli } from '../helpers/cli.js';

/** A short lease where a dead node must be reaped quickly (heartbeat every 500 ms). */
const LEASE_MS = 1500;
interface Outcome { readonly ws?: TestWs; readonly status?: number; readonly code?: string }

/** One upgrade: the open socket, or the HTTP refusal's status and code. */
async function attempt(url: string, localAddress?: string, timeoutMs = 10_000): Promise<Outcome> {
  try {
    return { ws: await openWs(url, { timeoutMs, ...(localAddress === undefined ? {} : { localAddress }) }) };
  } catch (err) {
    const r = err as { status?: number; body?: { code?: string } };
    if (r.status === undefined) throw err;
    return { status: r.status, code: r.body?.code ?? '' };
  }
}

async function stats(bridge: BridgeHandle): Promise<{ active: number; perHost: Record<string, number>; perTarget: Record<string, number> }> {
  const res = await fetch(`${bridge.url}/stats`);
  assert.equal(res.status, 200, `/stats: ${res.status} ${await res.clone().text()}`);
  const body = (await res.json()) as { connections: { active_sessions: number; host_connections: Record<string, number>; target_connections: Record<string, number> } };
  return { active: body.connections.active_sessions, perHost: body.connections.host_connections, perTarget: body.connections.target_connections };
}


/** The nodes of these tests: a rate burst no test reaches (they count session limits, not the rate). */
const startNodes = (t: TestContext, n: number, redisUrl: string | null, flags: readonly string[] = [], leaseMs = STEADY_LEASE_MS): Promise<BridgeHandle[]> =>
  startClusterNodes(t, n, redisUrl, ['--rate-burst', '1000', ...flags], leaseMs);

async function fakeSsh(t: TestContext): Promise<FakeSshHandle> {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  return ssh;
}

/** `count` upgrades released together, round-robin over the nodes. */
function burst(nodes: readonly BridgeHandle[], count: number, path: (i: number) => string, from?: (i: number) => string): Promise<Outcome[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => {
    const node = nodes[i % nodes.length];
    assert.ok(node !== undefined);
    return attempt(`${node.wsBase}${path(i)}`, from?.(i));
  }));
}

/** Redis holds no slot any more: the gateway count and both per-key hashes are gone. */
async function redisEmpty(redis: { command(...a: string[]): Promise<string> }): Promise<boolean> {
  const [open, perClient, perTarget] = await Promise.all([redis.command('GET', '{uwsb}:open'), redis.command('HLEN', '{uwsb}:per-client'), redis.command('HLEN', '{uwsb}:per-target')]);
  return open.startsWith('$-1') && perClient.startsWith(':0') && perTarget.startsWith(':0');
}

void test('total: 20 concurrent upgrades over 3 nodes with conn-max-total 5 admit exactly 5; the rest LIMIT_TOTAL; counters back to 0', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, 3, redis.url, ['--conn-max-total', '5', '--conn-max-per-host', '100', '--conn-max-per-target', '100']);
  const outcomes = await burst(nodes, 20, () => `/ws/127.0.0.1/${ssh.port}`);
  assert.deepEqual(tally(outcomes), { admitted: 5, LIMIT_TOTAL: 15 });
  for (const o of outcomes) if (o.ws === undefined) assert.equal(o.status, 503);
  for (const node of nodes) assert.equal((await stats(node)).active, 5, 'every node reads the gateway count from Redis');
  await closeAll(outcomes);
  await until(async () => (await Promise.all(nodes.map(stats))).every((s) => s.active === 0), 'every node to see 0 slots');
  assert.ok(await redisEmpty(redis), 'no count left in Redis');
  const again = await burst(nodes, 5, () => `/ws/127.0.0.1/${ssh.port}`);
  assert.deepEqual(tally(again), { admitted: 5 }, 'the slots are free again on every node');
  await closeAll(again);
});

void test('negative control: the same run with node-local gates overshoots the total', async (t) => {
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, 3, null, ['--conn-max-total', '5', '--conn-max-per-host', '100', '--conn-max-per-target', '100']);
  const outcomes = await burst(nodes, 20, () => `/ws/127.0.0.1/${ssh.port}`);
  const admitted = tally(outcomes).admitted ?? 0;
  assert.ok(admitted > 5, `node-local gates admitted ${admitted}: the exact test above would catch the bug`);
  await closeAll(outcomes);
});

void test('per client IP: 4 client addresses x 6 concurrent upgrades over 3 nodes with conn-max-per-host 2 admit exactly 2 each', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, 3, redis.url, ['--conn-max-total', '100', '--conn-max-per-host', '2', '--conn-max-per-target', '100']);
  const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
  const outcomes = await burst(nodes, 24, () => `/ws/127.0.0.1/${ssh.port}`, (i) => ips[i % ips.length] ?? '127.0.0.2');
  assert.deepEqual(tally(outcomes), { admitted: 8, LIMIT_PER_IP: 16 });
  const s = await stats(nodes[0] as BridgeHandle);
  assert.deepEqual(s.perHost, Object.fromEntries(ips.map((ip) => [ip, 2])));
  await closeAll(outcomes);
  await until(() => redisEmpty(redis), 'Redis to hold no slot');
});

void test('per target: 2 targets x 10 concurrent upgrades over 3 nodes with conn-max-per-target 3 admit exactly 3 each', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const a = await fakeSsh(t);
  const b = await fakeSsh(t);
  const nodes = await startNodes(t, 3, redis.url, ['--conn-max-total', '100', '--conn-max-per-host', '100', '--conn-max-per-target', '3']);
  const outcomes = await burst(nodes, 20, (i) => `/ws/127.0.0.1/${i % 2 === 0 ? a.port : b.port}`);
  assert.deepEqual(tally(outcomes), { admitted: 6, LIMIT_PER_TARGET: 14 });
  const s = await stats(nodes[1] as BridgeHandle);
  assert.deepEqual(s.perTarget, { [`127.0.0.1:${a.port}`]: 3, [`127.0.0.1:${b.port}`]: 3 });
  await closeAll(outcomes);
  await until(() => redisEmpty(redis), 'Redis to hold no slot');
});

interface NodeRow { node: string; incarnation: string; sessions: number; lease_expires_in_ms: number }
interface ClusterBlock { node: string; incarnation: string; sessions: { own: number; cluster: number }; nodes: NodeRow[]; unlisted_nodes: number }

/** /stats' cluster block and active_sessions, and the metrics of the same figures, as `node` reports them. */
async function clusterView(base: string): Promise<{ cluster: ClusterBlock; active: number; metrics: { own: number; total: number; perNode: Record<string, number> } }> {
  const res = await fetch(`${base}/stats`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { cluster: ClusterBlock; connections: { active_sessions: number } };
  const text = await (await fetch(`${base}/metrics`)).text();
  const one = (re: RegExp): number => {
    const all = [...text.matchAll(re)];
    assert.equal(all.length, 1, `${String(re)} once in /metrics`);
    return Number(all[0]?.[1]);
  };
  const perNode: Record<string, number> = {};
  for (const m of text.matchAll(/^webssh_bridge_cluster_node_sessions\{node="([^"]+)"\} (\d+)$/gm)) {
    assert.equal(perNode[m[1] ?? ''], undefined, `node ${m[1] ?? ''} once`);
    perNode[m[1] ?? ''] = Number(m[2]);
  }
  return {
    cluster: body.cluster, active: body.connections.active_sessions,
    metrics: { own: one(/^webssh_bridge_active_sessions (\d+)$/gm), total: one(/^webssh_bridge_cluster_sessions (\d+)$/gm), perNode },
  };
}

const perNodeOf = (c: ClusterBlock): Record<string, number> => Object.fromEntries(c.nodes.map((n) => [n.node, n.sessions]));

void test('/stats and /metrics of one node show the cluster per node (from Redis), its own slots apart, and the total; back to 0 after the close', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, 3, redis.url, ['--conn-max-total', '100', '--conn-max-per-host', '100', '--conn-max-per-target', '100']);
  const [n1, n2, n3] = nodes;
  assert.ok(n1 !== undefined && n2 !== undefined && n3 !== undefined);
  const path = `/ws/127.0.0.1/${ssh.port}`;
  const held: TestWs[] = [];
  for (const node of [n1, n1, n3]) {
    const ws = await openWs(`${node.wsBase}${path}`);
    await login(ws, ssh);
    held.push(ws);
  }
  const expected = { 'gw-1': 2, 'gw-2': 0, 'gw-3': 1 };
  const seen = await clusterView(n2.url);
  assert.deepEqual(perNodeOf(seen.cluster), expected, 'node 2 lists every node with its sessions');
  assert.deepEqual(seen.metrics.perNode, expected, 'and so does its gauge, one series per node');
  assert.equal(seen.cluster.node, 'gw-2');
  assert.match(seen.cluster.incarnation, /^gw-2\/[0-9a-f]{16}$/);
  assert.deepEqual(seen.cluster.sessions, { own: 0, cluster: 3 }, 'its own slots apart from the cluster\'s');
  assert.equal(seen.active, 3, 'connections.active_sessions is the cluster\'s, as the limits see it');
  assert.equal(seen.metrics.total, 3);
  assert.equal(seen.metrics.own, 0, 'webssh_bridge_active_sessions is the node\'s own');
  assert.equal(seen.cluster.nodes.reduce((n, row) => n + row.sessions, 0), seen.cluster.sessions.cluster, 'the nodes add up to the total');
  assert.equal(seen.cluster.unlisted_nodes, 0);
  for (const row of seen.cluster.nodes) {
    assert.match(row.incarnation, new RegExp(`^${row.node}/`));
    assert.ok(row.lease_expires_in_ms > 0 && row.lease_expires_in_ms <= STEADY_LEASE_MS, `${row.node}: lease expires in ${row.lease_expires_in_ms} ms`);
  }
  const first = await clusterView(n1.url);
  assert.deepEqual(first.cluster.sessions, { own: 2, cluster: 3 });
  assert.equal(first.metrics.own, 2);
  assert.deepEqual(first.metrics.perNode, expected, 'every node sees the same cluster');

  await closeAll(held.map((ws) => ({ ws })));
  await until(async () => {
    const after = await clusterView(n2.url);
    return after.cluster.sessions.cluster === 0 && after.metrics.total === 0 && Object.values(after.metrics.perNode).every((n) => n === 0)
      && after.cluster.nodes.every((row) => row.sessions === 0);
  }, 'every figure back to 0');
  const after = await clusterView(n2.url);
  assert.deepEqual(perNodeOf(after.cluster), { 'gw-1': 0, 'gw-2': 0, 'gw-3': 0 }, 'the nodes stay listed, with 0');
  assert.deepEqual(after.metrics.perNode, { 'gw-1': 0, 'gw-2': 0, 'gw-3': 0 });
});

/** Log in and wait for the prompt; then the session echoes what it is sent. */
async function login(ws: TestWs, ssh: FakeSshHandle): Promise<void> {
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
}

async function echoes(ws: TestWs, text: string): Promise<void> {
  ws.sendBinary(Buffer.from(`${text}\r`));
  await ws.waitForOutput(text);
}

void test('a node killed with -9 gives its slots back within the lease TTL plus one heartbeat', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const limits = ['--conn-max-total', '3', '--conn-max-per-host', '100', '--conn-max-per-target', '100', '--host-key-policy', 'accept-new-insecure'];
  const victim = spawnCli(['--server-address', '127.0.0.1:0', '--workers', '1', '--cluster-redis', redis.url, ...keyringFlags(t), '--node-id', 'victim', '--cluster-lease', `${LEASE_MS}ms`, ...limits]);
  t.after(() => victim.stop());
  const port = await victim.listening();
  const [survivor] = await startNodes(t, 1, redis.url, limits, LEASE_MS);
  assert.ok(survivor !== undefined);
  const held: TestWs[] = [];
  for (let i = 0; i < 3; i++) {
    const o = await attempt(`ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`);
    assert.ok(o.ws !== undefined, `session ${i} on the victim: ${o.code}`);
    await login(o.ws, ssh);
    held.push(o.ws);
  }
  assert.equal((await attempt(`${survivor.wsBase}/ws/127.0.0.1/${ssh.port}`)).code, 'LIMIT_TOTAL', 'the victim\'s slots count on the survivor');
  victim.child.kill('SIGKILL');
  const killed = performance.now();
  await Promise.all(held.map((ws) => ws.closed));
  // The bound: the victim's last renewal + TTL, plus the survivor's next heartbeat (TTL/3); with slack for a loaded machine.
  await until(async () => (await stats(survivor)).active === 0, 'the survivor to reap the victim\'s slots', LEASE_MS + LEASE_MS / 3 + 3000);
  t.diagnostic(`slots back ${Math.round(performance.now() - killed)} ms after kill -9 (lease ${LEASE_MS} ms, heartbeat ${LEASE_MS / 3} ms)`);
  assert.ok(survivor.logs().some((l) => l.event === 'cluster_reaped' && l.node === 'victim' && l.slots === 3));
  const fresh = await attempt(`${survivor.wsBase}/ws/127.0.0.1/${ssh.port}`);
  assert.ok(fresh.ws !== undefined, 'a new session gets a freed slot');
  await closeAll([fresh]);
});

void test('Redis stopped: a new session is refused with CLUSTER_UNAVAILABLE at once, an open shell keeps echoing; restarted empty, the count is right again', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const [node] = await startNodes(t, 1, redis.url, ['--conn-max-total', '1']);
  assert.ok(node !== undefined);
  const url = `${node.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const open = await attempt(url);
  assert.ok(open.ws !== undefined);
  await login(open.ws, ssh);
  await redis.stop();
  for (let i = 0; i < 3; i++) {
    const refused = await attempt(url, undefined, 3000);
    assert.deepEqual([refused.status, refused.code], [503, 'CLUSTER_UNAVAILABLE']);
  }
  await echoes(open.ws, 'still-here-1');
  const unavailable = node.logs().filter((l) => l.event === 'cluster_unavailable');
  assert.equal(unavailable.length, 1, `the outage is logged once, not per request: ${JSON.stringify(node.logs().filter((l) => String(l.event).startsWith('cluster')))}`);
  await until(() => (node.app.manager.stats().cluster?.renewals.failed ?? 0) > 0, 'a failed renewal');
  // The cluster's figures are unknown, not 0; the scrape still answers, with the node's own.
  const down = await fetch(`${node.url}/metrics`);
  assert.equal(down.status, 200);
  const downText = await down.text();
  assert.match(downText, /^webssh_bridge_cluster_sessions Nan$/m);
  assert.doesNotMatch(downText, /^webssh_bridge_cluster_node_sessions\{/m);
  assert.match(downText, /^webssh_bridge_active_sessions 1$/m);
  assert.equal((await fetch(`${node.url}/stats`)).status, 503);
  await redis.restartEmpty();
  // Re-registered by the next heartbeat: the open session holds the one slot again.
  await until(async () => (await redis.command('GET', '{uwsb}:open')).includes('\r\n1\r\n'), 'the node to register its live grant again');
  await echoes(open.ws, 'still-here-2');
  assert.equal((await stats(node)).active, 1);
  assert.equal((await attempt(url)).code, 'LIMIT_TOTAL', 'the live session counts against the limit again');
  assert.equal(node.logs().filter((l) => l.event === 'cluster_available').length, 1, 'the recovery is logged once');
  const metrics = await (await fetch(`${node.url}/metrics`)).text();
  assert.match(metrics, /^webssh_bridge_rejections_total\{reason="CLUSTER_UNAVAILABLE"\} 3$/m);
  assert.match(metrics, /^webssh_bridge_cluster_lease_renewals_total\{result="failed"\} [1-9]\d*$/m);
  assert.match(metrics, /^webssh_bridge_redis_command_seconds_count\{command="uwsbGrant",outcome="ok"\} [1-9]\d*$/m);
  assert.match(metrics, /^webssh_bridge_cluster_admitting 1$/m);
  open.ws.close();
  await open.ws.closed;
  await until(() => redisEmpty(redis), 'Redis to hold no slot');
});

void test('Redis frozen (SIGSTOP): a new session is refused with CLUSTER_UNAVAILABLE within the timeout, never a hang; an open shell keeps echoing', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const [node] = await startNodes(t, 1, redis.url, ['--conn-max-total', '2']);
  assert.ok(node !== undefined);
  const url = `${node.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const open = await attempt(url);
  assert.ok(open.ws !== undefined);
  await login(open.ws, ssh);
  redis.freeze();
  t.after(() => redis.thaw());
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const refused = await attempt(url, undefined, 3000);
    assert.deepEqual([refused.status, refused.code], [503, 'CLUSTER_UNAVAILABLE']);
    t.diagnostic(`refused ${Math.round(performance.now() - started)} ms after the upgrade was sent`);
  }
  await echoes(open.ws, 'frozen-but-alive');
  redis.thaw();
  await until(async () => {
    const o = await attempt(url);
    await closeAll([o]);
    return o.ws !== undefined;
  }, 'admission to work again once Redis runs');
  await until(async () => (await stats(node)).active === 1, 'the count to be the one open session');
  open.ws.close();
  await open.ws.closed;
  await until(() => redisEmpty(redis), 'Redis to hold no slot');
});

void test('Redis restarted empty under 2 nodes: the counts are right again within a heartbeat, and the limit holds', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, 2, redis.url, ['--conn-max-total', '3']);
  const held: Outcome[] = [];
  for (let i = 0; i < 3; i++) held.push(await attempt(`${(nodes[i % 2] as BridgeHandle).wsBase}/ws/127.0.0.1/${ssh.port}`));
  assert.deepEqual(tally(held), { admitted: 3 });
  await redis.restartEmpty();
  // While Redis restarts, /stats answers 503 CLUSTER_UNAVAILABLE: the gateway's figures are Redis's.
  await until(async () => (await fetch(`${(nodes[0] as BridgeHandle).url}/stats`)).status === 200 && (await stats(nodes[0] as BridgeHandle)).active === 3, 'both nodes to register their live grants again');
  assert.deepEqual((await stats(nodes[1] as BridgeHandle)).perTarget, { [`127.0.0.1:${ssh.port}`]: 3 });
  const over = await attempt(`${(nodes[1] as BridgeHandle).wsBase}/ws/127.0.0.1/${ssh.port}`);
  assert.equal(over.code, 'LIMIT_TOTAL');
  assert.ok(nodes.every((n) => n.logs().some((l) => l.event === 'cluster_reregister')), 'each node saw its incarnation gone');
  await closeAll(held);
  await until(() => redisEmpty(redis), 'Redis to hold no slot');
});

void test('--workers 2 node (the primary owns the admission) and an in-process node share exact limits; a clean stop gives the slots back', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const limits = ['--conn-max-total', '4', '--conn-max-per-host', '100', '--conn-max-per-target', '100', '--rate-burst', '1000', '--host-key-policy', 'accept-new-insecure'];
  const cli = spawnCli(['--server-address', '127.0.0.1:0', '--workers', '2', '--metrics-enabled', '--cluster-redis', redis.url, ...keyringFlags(t), '--node-id', 'workers', '--cluster-lease', `${STEADY_LEASE_MS}ms`, ...limits]);
  t.after(() => cli.stop());
  const port = await cli.listening();
  await cli.waitForLog((l) => l.event === 'cluster_start');
  const [other] = await startNodes(t, 1, redis.url, limits);
  assert.ok(other !== undefined);
  await until(async () => (await redis.command('ZCARD', '{uwsb}:leases')) === ':2\r\n', 'both nodes to hold a lease');
  const urls = [`ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`, `${other.wsBase}/ws/127.0.0.1/${ssh.port}`];
  const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => attempt(urls[i % 2] ?? '')));
  assert.deepEqual(tally(outcomes), { admitted: 4, LIMIT_TOTAL: 8 });
  const res = await fetch(`http://127.0.0.1:${port}/stats`);
  assert.equal(((await res.json()) as { connections: { active_sessions: number } }).connections.active_sessions, 4, 'the primary reads the gateway count from Redis');
  // Per node: the primary reads them (one series per node, not one per worker); its own are its workers' together.
  const mine = outcomes.filter((o, i) => i % 2 === 0 && o.ws !== undefined).length;
  const view = await clusterView(`http://127.0.0.1:${port}`);
  assert.deepEqual(perNodeOf(view.cluster), { workers: mine, 'gw-1': 4 - mine });
  assert.deepEqual(view.metrics.perNode, { workers: mine, 'gw-1': 4 - mine });
  assert.deepEqual(view.cluster.sessions, { own: mine, cluster: 4 });
  assert.equal(view.metrics.own, mine, 'the workers\' shares add up to the node\'s own');
  assert.equal(view.metrics.total, 4);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  assert.match(metrics, /^webssh_bridge_redis_command_seconds_count\{command="uwsbGrant",outcome="ok"\} [1-9]\d*$/m, 'the primary\'s own Redis metrics are in the aggregate');
  assert.match(metrics, /^webssh_bridge_cluster_admitting 1$/m);
  await closeAll(outcomes);
  await until(() => redisEmpty(redis), 'Redis to hold no slot');
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
  assert.equal(await redis.command('ZCARD', '{uwsb}:leases'), ':1\r\n', 'the stopped node left no lease behind');
});
