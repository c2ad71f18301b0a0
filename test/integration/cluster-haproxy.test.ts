/**
 * Three bridge nodes on one real redis-server behind a real HAProxy running the documented config,
 * docs/examples/haproxy.cfg (test/helpers/haproxy.ts), real WebSocket clients from 20 loopback
 * addresses. The limits are exact through the load balancer (HAProxy adds X-Forwarded-For, the
 * nodes trust it, so each client is counted by its own address), with a negative control per
 * limit; HAProxy's health checks on /readyz take a stopped node out; the config's use-server
 * rules bring a resume, a viewer and a file request to the node their token names while it is
 * up, and anywhere when it is down.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { BridgeHandle } from '../helpers/bridge.js';
import { closeAll, tally, startNodes as startClusterNodes, type Admitted } from '../helpers/cluster-nodes.js';
import { SERVERS, useHaproxy, type HaproxyHandle, type ServerStat } from '../helpers/haproxy.js';
import { useRedis } from '../helpers/redis.js';
import { haproxyAvailable, requireOrSkip, HAPROXY_PATH } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { until } from '../helpers/until.js';
import { openWs, TestWs } from '../helpers/ws-client.js';
import WebSocket from 'ws';

const V1 = 'webssh-bridge.v1';
/** The clients: 20 loopback addresses, none of them HAProxy's own 127.0.0.1 (the trusted proxy). */
const CLIENTS = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 2}`);
const UPGRADES = 200;

/**
 * The nodes: gw-1..gw-3 (the config's server names), believing X-Forwarded-For from HAProxy
 * (127.0.0.1), with a rate burst no test reaches (they count session limits, not the rate).
 */
const startNodes = (t: TestContext, redisUrl: string | null, flags: readonly string[] = []): Promise<BridgeHandle[]> =>
  startClusterNodes(t, 3, redisUrl, ['--trusted-proxies', '127.0.0.1', '--rate-burst', '1000', ...flags]);

/** HAProxy is there (or the test fails under CI, skips elsewhere), asked before anything starts. */
const haproxyHere = (t: TestContext): boolean => requireOrSkip(t, 'haproxy', haproxyAvailable(), `${HAPROXY_PATH}; apt-get install haproxy`);

async function fakeSsh(t: TestContext): Promise<FakeSshHandle> {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  return ssh;
}

async function lbFor(t: TestContext, nodes: readonly BridgeHandle[]): Promise<HaproxyHandle> {
  const lb = await useHaproxy(t, nodes.map((n) => n.port));
  assert.ok(lb !== null, 'checked by haproxyHere first');
  return lb;
}

/** One upgrade (a seed client): the open socket, or the HTTP refusal's code. */
async function attempt(url: string, localAddress: string, headers?: Record<string, string>): Promise<Admitted> {
  try {
    return { ws: await openWs(url, { localAddress, timeoutMs: 15_000, ...(headers === undefined ? {} : { headers }) }) };
  } catch (err) {
    const r = err as { status?: number; body?: { code?: string } };
    if (r.status === undefined) throw err;
    return { code: r.body?.code ?? `HTTP ${r.status}` };
  }
}

/** The sessions each node holds itself (not the cluster's count, which every node reads from Redis). */
const held = (nodes: readonly BridgeHandle[]): number[] => nodes.map((n) => n.app.manager.size);

async function clusterStats(node: BridgeHandle): Promise<{ active: number; perHost: Record<string, number>; perTarget: Record<string, number> }> {
  const res = await fetch(`${node.url}/stats`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as { connections: { active_sessions: number; host_connections: Record<string, number>; target_connections: Record<string, number> } };
  return { active: body.connections.active_sessions, perHost: body.connections.host_connections, perTarget: body.connections.target_connections };
}

async function redisEmpty(redis: { command(...a: string[]): Promise<string> }): Promise<boolean> {
  const [open, perClient, perTarget] = await Promise.all([redis.command('GET', '{uwsb}:open'), redis.command('HLEN', '{uwsb}:per-client'), redis.command('HLEN', '{uwsb}:per-target')]);
  return open.startsWith('$-1') && perClient.startsWith(':0') && perTarget.startsWith(':0');
}

/**
 * The three runs: 200 upgrades released together through HAProxy, 10 from each of the 20
 * clients, with one limit low and the other two out of reach, so the admitted total is that
 * limit's arithmetic whatever the order of arrival.
 */
interface Run {
  readonly limit: string;
  readonly flags: readonly string[];
  /** How many SSH servers the upgrades spread over (upgrade i goes to target i mod targets). */
  readonly targets: number;
  readonly expect: Readonly<Record<string, number>>;
}
const LOOSE = '1000';
const RUNS: readonly Run[] = [
  // 20 clients x 3 each.
  { limit: 'per client IP (conn-max-per-host 3)', flags: ['--conn-max-per-host', '3', '--conn-max-per-target', LOOSE, '--conn-max-total', LOOSE], targets: 1, expect: { admitted: 60, LIMIT_PER_IP: 140 } },
  // 4 targets x 7 each.
  { limit: 'per target (conn-max-per-target 7)', flags: ['--conn-max-per-host', LOOSE, '--conn-max-per-target', '7', '--conn-max-total', LOOSE], targets: 4, expect: { admitted: 28, LIMIT_PER_TARGET: 172 } },
  { limit: 'total (conn-max-total 45)', flags: ['--conn-max-per-host', LOOSE, '--conn-max-per-target', LOOSE, '--conn-max-total', '45'], targets: 1, expect: { admitted: 45, LIMIT_TOTAL: 155 } },
];

/**
 * The 200 upgrades of a run through `lb`: the first three one after the other, each held open, so
 * that leastconn puts one on each node (HAProxy's documented choice: the server with the fewest
 * open connections), then the other 197 released at once. Which node wins the race for the last
 * slots is the scheduler's; with the three first, every node holds a session of the run however
 * the race goes, so "every node admits some" is not left to chance.
 */
async function burst(t: TestContext, lb: HaproxyHandle, run: Run, nodes: readonly BridgeHandle[]): Promise<{ outcomes: Admitted[]; ssh: FakeSshHandle[] }> {
  const ssh: FakeSshHandle[] = [];
  for (let i = 0; i < run.targets; i++) ssh.push(await fakeSsh(t));
  const one = (i: number): Promise<Admitted> => attempt(`${lb.wsBase}/ws/127.0.0.1/${(ssh[i % ssh.length] as FakeSshHandle).port}`, CLIENTS[i % CLIENTS.length] as string);
  const first: Admitted[] = [];
  for (let i = 0; i < nodes.length; i++) {
    const admitted = await one(i);
    first.push(admitted);
    assert.ok(admitted.ws !== undefined, `upgrade ${i + 1} of ${nodes.length}, below every limit, is admitted: ${String(admitted.code)}`);
    // The node's session exists once its socket is open on the client's side; wait for the node's own count.
    await until(() => held(nodes).reduce((a, b) => a + b, 0) === i + 1, `session ${i + 1} held by a node`);
  }
  assert.deepEqual(held(nodes), nodes.map(() => 1), 'leastconn put one of the first three on each node');
  const rest = await Promise.all(Array.from({ length: UPGRADES - nodes.length }, (_, k) => one(k + nodes.length)));
  return { outcomes: [...first, ...rest], ssh };
}

for (const run of RUNS) {
  void test(`exact through HAProxy, ${run.limit}: ${UPGRADES} upgrades from ${CLIENTS.length} clients over 3 nodes admit exactly ${run.expect.admitted}; every node admits some; counters back to 0`, async (t) => {
    if (!haproxyHere(t)) return;
    const redis = await useRedis(t);
    if (redis === null) return;
    const nodes = await startNodes(t, redis.url, run.flags);
    const lb = await lbFor(t, nodes);
    const { outcomes, ssh } = await burst(t, lb, run, nodes);
    assert.deepEqual(tally(outcomes), run.expect);
    // leastconn spread them: each node holds some, and HAProxy's count of open connections per server is the node's own.
    const perNode = held(nodes);
    t.diagnostic(`sessions per node: ${SERVERS.map((s, i) => `${s} ${perNode[i]}`).join(', ')}`);
    assert.equal(perNode.reduce((a, b) => a + b, 0), run.expect.admitted);
    for (const [i, n] of perNode.entries()) assert.ok(n > 0, `${SERVERS[i]} admitted none: ${perNode.join('/')}`);
    await until(async () => {
      const s = await lb.servers();
      return SERVERS.every((name, i) => s.get(name)?.current === perNode[i]);
    }, 'HAProxy\'s open connections per server to be the nodes\' sessions', 5000, async () => JSON.stringify([...(await lb.servers())]));
    // Every node reads the cluster's counts; the clients were counted by their own addresses (X-Forwarded-For), not HAProxy's.
    const s = await clusterStats(nodes[2] as BridgeHandle);
    assert.equal(s.active, run.expect.admitted);
    assert.ok(!('127.0.0.1' in s.perHost), `no session counted against HAProxy's address: ${JSON.stringify(s.perHost)}`);
    if (run.targets === 1) {
      assert.deepEqual(Object.keys(s.perTarget), [`127.0.0.1:${(ssh[0] as FakeSshHandle).port}`]);
    } else {
      assert.deepEqual(s.perTarget, Object.fromEntries(ssh.map((h) => [`127.0.0.1:${h.port}`, 7])));
    }
    if (run.expect.LIMIT_PER_IP !== undefined) assert.deepEqual(s.perHost, Object.fromEntries(CLIENTS.map((ip) => [ip, 3])));
    await closeAll(outcomes);
    await until(async () => (await Promise.all(nodes.map(clusterStats))).every((c) => c.active === 0), 'every node to see 0 slots');
    await until(() => redisEmpty(redis), 'Redis to hold no slot');
    assert.deepEqual(held(nodes), [0, 0, 0]);
  });

  void test(`negative control, ${run.limit}: the same run through HAProxy with node-local gates overshoots`, async (t) => {
    if (!haproxyHere(t)) return;
    const nodes = await startNodes(t, null, run.flags);
    const lb = await lbFor(t, nodes);
    const { outcomes } = await burst(t, lb, run, nodes);
    const admitted = tally(outcomes).admitted ?? 0;
    t.diagnostic(`node-local gates admitted ${admitted} (${held(nodes).join('/')} per node)`);
    assert.ok(admitted > (run.expect.admitted ?? 0), `node-local gates admitted ${admitted}: the exact test above would catch the bug`);
    await closeAll(outcomes);
  });
}

void test('HAProxy marks a stopped node down (its /readyz check fails) and new upgrades all land on the others', async (t) => {
  if (!haproxyHere(t)) return;
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, redis.url, ['--conn-max-per-target', '100']);
  const lb = await lbFor(t, nodes);
  const [gw1, gw2, gw3] = nodes as [BridgeHandle, BridgeHandle, BridgeHandle];
  const stopped = performance.now();
  await gw2.close();
  let state: ServerStat | undefined;
  await until(async () => {
    state = (await lb.servers()).get('gw-2');
    return state?.status === 'DOWN';
  }, 'HAProxy to mark gw-2 down', 10_000, () => Promise.resolve(JSON.stringify(state)));
  t.diagnostic(`gw-2 down in HAProxy ${Math.round(performance.now() - stopped)} ms after it stopped (check: ${state?.check})`);
  assert.equal(state?.check, 'L4CON', 'the check found the port closed');
  const before = (await lb.servers()).get('gw-2')?.total;
  const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(`${lb.wsBase}/ws/127.0.0.1/${ssh.port}`, CLIENTS[i % CLIENTS.length] as string)));
  assert.deepEqual(tally(outcomes), { admitted: 30 }, 'no upgrade was sent to the stopped node');
  assert.ok(gw1.app.manager.size > 0 && gw3.app.manager.size > 0, `both others took some: ${gw1.app.manager.size}/${gw3.app.manager.size}`);
  assert.equal(gw1.app.manager.size + gw3.app.manager.size, 30);
  assert.equal((await lb.servers()).get('gw-2')?.total, before, 'HAProxy sent gw-2 nothing more');
  await closeAll(outcomes);
});

/** A resume token of `owner` that no node knows (a fresh random secret, registered so no log may show it). */
function resumeToken(owner: string): string {
  return `${owner}.${registerSecret(Buffer.from(`unknown-resume-${owner}-${Math.random()}`).toString('base64url').padEnd(43, 'A').slice(0, 43))}`;
}
/** A well-formed share link (or file token) of `owner` with a signature no node made. */
function signedToken(owner: string): string {
  return `${owner}.${Buffer.from('{}').toString('base64url')}.${registerSecret('S'.repeat(11) + Math.random().toString(36).slice(2).padEnd(32, 'x').slice(0, 32))}`;
}

/** Which server HAProxy sent one request to: the one whose connection count since the start grew by one. */
async function servedBy(lb: HaproxyHandle, send: () => Promise<void>): Promise<string> {
  const before = await lb.servers();
  await send();
  let grew: string[] = [];
  await until(async () => {
    const after = await lb.servers();
    grew = SERVERS.filter((s) => (after.get(s)?.total ?? 0) > (before.get(s)?.total ?? 0));
    return grew.length > 0;
  }, 'HAProxy to count the request');
  assert.equal(grew.length, 1, `one request, one server: ${grew.join(', ')}`);
  return grew[0] as string;
}

/** A resume through HAProxy: refused (4007 RESUME_INVALID) by whichever node gets it. */
async function resume(lb: HaproxyHandle, ssh: FakeSshHandle, token: string, encodeTilde: boolean, from = '127.0.0.7', headers?: Record<string, string>): Promise<void> {
  // What the page sends: URLSearchParams writes `~` as %7E.
  const query = encodeTilde ? new URLSearchParams({ resume: token, position: '0' }).toString() : `resume=${token}&position=0`;
  const ws = await openWs(`${lb.wsBase}/ws/127.0.0.1/${ssh.port}?${query}`, { protocol: V1, localAddress: from, ...(headers === undefined ? {} : { headers }) });
  assert.equal((await ws.closed).code, 4007);
}

/**
 * A viewer through HAProxy, refused (4009 SHARE_INVALID) by whichever node gets it; the link as a
 * subprotocol entry (the page's way) after v1 or before it, or as `?share=` (%7E for `~`).
 */
async function view(lb: HaproxyHandle, ssh: FakeSshHandle, token: string, how: 'entry-last' | 'entry-first' | 'query'): Promise<void> {
  const entry = `webssh-bridge.share.${token}`;
  const url = `${lb.wsBase}/ws/127.0.0.1/${ssh.port}${how === 'query' ? `?${new URLSearchParams({ share: token }).toString()}` : ''}`;
  const protocols = how === 'entry-last' ? [V1, entry] : how === 'entry-first' ? [entry, V1] : [V1];
  const ws = new TestWs(new WebSocket(url, protocols, { localAddress: '127.0.0.8' }));
  assert.equal((await ws.closed).code, 4009);
}
const VIEWS = ['entry-last', 'entry-first', 'query'] as const;

/** A file request through HAProxy with the token in X-Files-Token (or a download link's `t=`); the refusal's code. */
function files(lb: HaproxyHandle, token: string, download: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const path = download ? `/api/files/download?t=${encodeURIComponent(token)}` : '/api/files/list?path=.';
    const req = request(`${lb.url}${path}`, { localAddress: '127.0.0.9', headers: download ? {} : { 'X-Files-Token': token } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString('utf8'); });
      res.on('end', () => resolve((JSON.parse(body) as { code: string }).code));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What each node refused so far, by code (a node counts the refusals of the requests it got). */
const refusals = (nodes: readonly BridgeHandle[], code: string): number[] => nodes.map((n) => n.app.manager.stats().rejections[code] ?? 0);

void test('use-server: a resume, a viewer and a file request go to the node their token names while it is up, and elsewhere once it is down', async (t) => {
  if (!haproxyHere(t)) return;
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, redis.url);
  const lb = await lbFor(t, nodes);
  const gw2 = nodes[1] as BridgeHandle;

  // Tokens of gw-2 and of gw-3, each kind three times (the ways a client sends it): balanced, they would reach the named node only by chance.
  for (const [owner, index] of [['gw-2~0', 1], ['gw-3~0', 2]] as const) {
    for (let i = 0; i < 3; i++) {
      const before = refusals(nodes, 'RESUME_INVALID');
      assert.equal(await servedBy(lb, () => resume(lb, ssh, resumeToken(owner), i % 2 === 0)), SERVERS[index], `resume ${i} of ${owner}`);
      assert.deepEqual(refusals(nodes, 'RESUME_INVALID').map((n, k) => n - (before[k] ?? 0)), SERVERS.map((_, k) => (k === index ? 1 : 0)), 'the node it reached refused it');
      assert.equal(await servedBy(lb, () => view(lb, ssh, signedToken(owner), VIEWS[i] ?? 'query')), SERVERS[index], `viewer ${i} (${VIEWS[i]}) of ${owner}`);
      assert.equal(await servedBy(lb, async () => assert.equal(await files(lb, signedToken(owner), false), 'FILES_TOKEN_INVALID')), SERVERS[index], `X-Files-Token ${i} of ${owner}`);
      assert.equal(await servedBy(lb, async () => assert.equal(await files(lb, signedToken(owner), true), 'FILES_TOKEN_INVALID')), SERVERS[index], `download link ${i} of ${owner}`);
    }
  }
  // The owner's refusal says why: the token is unknown there (not "no such node here").
  assert.ok(gw2.logs().some((l) => l.event === 'resume_refused' && l.why === 'unknown or used token'));
  // The client is the one HAProxy saw, not an X-Forwarded-For it sent itself.
  await resume(lb, ssh, resumeToken('gw-2~0'), true, '127.0.0.11', { 'X-Forwarded-For': '203.0.113.9' });
  assert.equal(gw2.logs().filter((l) => l.event === 'resume_refused').at(-1)?.client_ip, '127.0.0.11');

  await gw2.close();
  await until(async () => (await lb.servers()).get('gw-2')?.status === 'DOWN', 'HAProxy to mark gw-2 down', 10_000);
  // The same requests are balanced over the others now; whichever gets one refuses it (its owner is gone).
  const others = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const r = await servedBy(lb, () => resume(lb, ssh, resumeToken('gw-2~0'), true));
    const v = await servedBy(lb, () => view(lb, ssh, signedToken('gw-2~0'), VIEWS[i % VIEWS.length] ?? 'query'));
    const f = await servedBy(lb, async () => assert.match(await files(lb, signedToken('gw-2~0'), false), /^FILES_/));
    for (const s of [r, v, f]) {
      assert.notEqual(s, 'gw-2');
      others.add(s);
    }
  }
  t.diagnostic(`with gw-2 down, its tokens went to ${[...others].join(' and ')}`);

  // The access log has the requests, never a token (it logs paths without their query).
  const log = lb.logText();
  assert.match(log, /nodes\/gw-2 .* GET \/ws\/127\.0\.0\.1\/\d+ HTTP\/1\.1/);
  assert.ok(!log.includes('resume='), 'no query string in HAProxy\'s log');
  assert.ok(!log.includes('api/files/download?'), 'no download link in HAProxy\'s log');
});
