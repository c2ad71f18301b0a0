/**
 * The rate limit, the login ban and the tickets shared in Redis (`--cluster-redis`): several
 * bridge nodes in this process on one real redis-server, real WebSocket clients and HTTP
 * requests, the in-process ssh2 server. A ban earned over nodes refuses on every node, a burst
 * spread over nodes spends one bucket (with a negative control: node-local buckets let in one
 * burst per node), a ticket minted on one node is redeemed once on another. With Redis stopped or
 * frozen the rate limit and ban fall back to the node (logged once, counted), while tickets fail
 * closed with CLUSTER_UNAVAILABLE; restarted empty, everything works again.
 * Client addresses are played with X-Forwarded-For from a trusted 127.0.0.1.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newToken } from '../../src/auth/tokens.js';
import { ticketDigest } from '../../src/redis/shared-keys.js';
import type { BridgeHandle } from '../helpers/bridge.js';
import { useRedis, type RedisHandle } from '../helpers/redis.js';
import { registerSecret } from '../helpers/secrets.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import { until } from '../helpers/until.js';
import { keyringFlags } from '../helpers/keyring.js';
import { closeAll, tally, startNodes as startClusterNodes } from '../helpers/cluster-nodes.js';
import { spawnCli } from '../helpers/cli.js';

const V1 = 'webssh-bridge.v1';
/** Long enough that a loaded machine never fences a node by accident (see cluster-admission.test.ts). */
const LEASE_MS = 6000;

/** The nodes of these tests: HAProxy-free, so the test client's 127.0.0.x addresses are the client IPs; 127.0.0.1 is trusted for X-Forwarded-For. */
const startNodes = (t: TestContext, n: number, redisUrl: string | null, flags: readonly string[]): Promise<BridgeHandle[]> =>
  startClusterNodes(t, n, redisUrl, ['--trusted-proxies', '127.0.0.1', ...flags], LEASE_MS);

interface Outcome { readonly ws?: TestWs; readonly status?: number; readonly code?: string; readonly retryAfter?: string; readonly body?: string }

/** One upgrade from client `ip`: the open socket, or the HTTP refusal. */
async function attempt(url: string, ip: string, headers: Record<string, string> = {}): Promise<Outcome> {
  try {
    return { ws: await openWs(url, { timeoutMs: 10_000, headers: { 'X-Forwarded-For': ip, ...headers } }) };
  } catch (err) {
    const r = err as { status?: number; body?: { code?: string }; headers?: Record<string, unknown> };
    if (r.status === undefined) throw err;
    const retry = r.headers?.['retry-after'];
    return { status: r.status, code: r.body?.code ?? '', body: JSON.stringify(r.body), ...(typeof retry === 'string' ? { retryAfter: retry } : {}) };
  }
}


function node(nodes: readonly BridgeHandle[], i: number): BridgeHandle {
  const n = nodes[i];
  assert.ok(n !== undefined);
  return n;
}

async function fakeSsh(t: TestContext): Promise<FakeSshHandle> {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  return ssh;
}

/** A token file with one token (a registered secret: no log may show it). */
function tokenFile(t: TestContext): { file: string; token: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-cabuse-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { token, line } = newToken('ci');
  registerSecret(token);
  const file = join(dir, 'tokens');
  writeFileSync(file, `${line}\n`);
  return { file, token };
}

async function postTicket(bridge: Pick<BridgeHandle, 'url'>, token: string, ip: string, target: { host: string; port: number }): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${bridge.url}/api/ticket`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: bridge.url, Authorization: `Bearer ${token}`, 'X-Forwarded-For': ip },
    body: JSON.stringify(target),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (typeof body['ticket'] === 'string') registerSecret(body['ticket']);
  return { status: res.status, body };
}

async function metrics(bridge: BridgeHandle): Promise<string> {
  return (await fetch(`${bridge.url}/metrics`)).text();
}

function fallbacks(text: string): number {
  const m = /^webssh_bridge_cluster_fallbacks_total\{what="abuse"\} (\d+)$/m.exec(text);
  assert.ok(m !== null, 'the fallback metric is exported');
  return Number(m[1]);
}

/** The remaining time to live (ms) of a key, as Redis says it. */
async function pttl(redis: RedisHandle, key: string): Promise<number> {
  const reply = await redis.command('PTTL', key);
  return Number(/^:(-?\d+)/.exec(reply)?.[1] ?? NaN);
}

type ErrorMsg = { type: 'error'; code: string; attemptsLeft?: unknown; banSeconds?: unknown; retryAfter?: unknown };

/** A v1 login with a wrong password from `ip`: the error it gets. */
async function failLogin(url: string, ip: string, ssh: FakeSshHandle, ws?: TestWs): Promise<ErrorMsg> {
  const sock = ws ?? await openWs(url, { protocol: V1, headers: { 'X-Forwarded-For': ip } });
  sock.sendJson({ type: 'auth', username: ssh.username, password: 'not-the-password' });
  const error = (await sock.waitForControl((m) => (m as { type?: unknown }).type === 'error')) as ErrorMsg;
  assert.equal(error.code, 'SSH_AUTH_FAILED');
  await sock.closed;
  return error;
}

void test('a ban earned over 3 nodes refuses on every node (AUTH_BANNED, Retry-After of the ban); attemptsLeft counts the cluster\'s failures', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await startNodes(t, 3, redis.url, ['--auth-ban-failures', '3', '--auth-ban-duration', '90s', '--rate-burst', '1000']);
  const url = (i: number): string => `${node(nodes, i).wsBase}/ws/127.0.0.1/${ssh.port}`;
  const ip = '198.51.100.1';
  const first = await failLogin(url(0), ip, ssh);
  assert.deepEqual([first.attemptsLeft, first.banSeconds], [2, 90], 'node 1: 2 attempts left');
  const second = await failLogin(url(1), ip, ssh);
  assert.deepEqual([second.attemptsLeft, second.banSeconds], [1, 90], 'node 2 counts node 1\'s failure');
  const third = await failLogin(url(2), ip, ssh);
  assert.equal(third.attemptsLeft, 0);
  assert.ok(typeof third.retryAfter === 'number' && third.retryAfter > 45 && third.retryAfter <= 90, `retryAfter ${String(third.retryAfter)}`);
  for (let i = 0; i < 3; i++) {
    const refused = await attempt(url(i), ip);
    assert.deepEqual([refused.status, refused.code], [429, 'AUTH_BANNED'], `node ${i + 1}`);
    const retry = Number(refused.retryAfter);
    assert.ok(retry > 45 && retry <= 90, `Retry-After ${String(refused.retryAfter)}`);
  }
  const other = await attempt(url(1), '198.51.100.2');
  assert.ok(other.ws !== undefined, 'another address is not banned');
  await closeAll([other]);
  assert.equal(nodes.filter((n) => n.logs().some((l) => l.event === 'client_banned')).length, 1, 'the ban is logged once, by the node that started it');
  // Nothing without an expiry: the ban lasts its length, the failures were cleared by the ban.
  const ban = await pttl(redis, `{uwsb}:ban:${ip}`);
  assert.ok(ban > 0 && ban <= 90_000, `ban PTTL ${ban}`);
  assert.equal(await pttl(redis, `{uwsb}:fails:${ip}`), -2);
  const fails = await failLogin(url(0), '198.51.100.2', ssh);
  assert.deepEqual([fails.attemptsLeft, fails.banSeconds], [2, 90]);
  const window = await pttl(redis, '{uwsb}:fails:198.51.100.2');
  assert.ok(window > 0 && window <= 300_000, `failures PTTL ${window} (auth-ban-window 5m)`);
});

void test('a burst spread over 3 nodes spends one bucket: rate-burst 6 admits exactly 6 of 15 concurrent upgrades; node-local buckets admit 15', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const flags = ['--rate-burst', '6', '--rate-interval', '60s', '--conn-max-per-host', '100'];
  const run = async (nodes: readonly BridgeHandle[], ip: string): Promise<Outcome[]> => Promise.all(Array.from({ length: 15 }, (_, i) =>
    attempt(`${node(nodes, i % 3).wsBase}/ws/127.0.0.1/${ssh.port}`, ip)));
  const shared = await run(await startNodes(t, 3, redis.url, flags), '198.51.100.10');
  assert.deepEqual(tally(shared), { admitted: 6, RATE_LIMITED: 9 });
  for (const o of shared.filter((x) => x.code === 'RATE_LIMITED')) {
    const retry = Number(o.retryAfter);
    assert.ok(retry >= 1 && retry <= 10, `Retry-After ${String(o.retryAfter)} (a token per 10 s)`);
  }
  const bucket = await pttl(redis, '{uwsb}:rate:198.51.100.10');
  assert.ok(bucket > 0 && bucket <= 60_000, `the bucket expires once it would be full again: PTTL ${bucket}`);
  await closeAll(shared);
  const local = await run(await startNodes(t, 3, null, flags), '198.51.100.10');
  assert.deepEqual(tally(local), { admitted: 15 }, 'negative control: one burst of 6 per node would let in all 15');
  await closeAll(local);
});

void test('Redis stopped, then frozen: the rate limit falls back to the node\'s bucket (logged once, counted); a failed login still says attemptsLeft; restarted, the cluster decides again', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const [gw] = await startNodes(t, 1, redis.url, ['--rate-burst', '3', '--rate-interval', '60s', '--auth-ban-failures', '3']);
  assert.ok(gw !== undefined);
  const url = `${gw.wsBase}/ws/127.0.0.1/${ssh.port}`;
  // A v1 socket admitted before the outage: its login fails while Redis is down.
  const pending = await openWs(url, { protocol: V1, headers: { 'X-Forwarded-For': '198.51.100.30' } });
  await redis.stop();
  const stopped: Outcome[] = [];
  for (let i = 0; i < 5; i++) stopped.push(await attempt(url, '198.51.100.20'));
  // The 3 the local bucket lets through reach admission, which fails closed.
  assert.deepEqual(tally(stopped), { CLUSTER_UNAVAILABLE: 3, RATE_LIMITED: 2 });
  const error = await failLogin(url, '198.51.100.30', ssh, pending);
  assert.deepEqual([error.attemptsLeft, error.banSeconds], [2, 300], 'the local ban answers attemptsLeft');
  assert.ok(fallbacks(await metrics(gw)) >= 6, 'every local answer is counted');
  assert.equal(gw.logs().filter((l) => l.event === 'cluster_fallback').length, 1, 'the fallback is logged once, not per request');

  await redis.restartEmpty();
  let fresh = 100;
  await until(async () => {
    const o = await attempt(url, `198.51.100.${fresh++}`);
    await closeAll([o]);
    return o.ws !== undefined;
  }, 'a fresh address to be admitted again once Redis is back');
  const back = await attempt(url, `198.51.100.${fresh}`);
  assert.ok(back.ws !== undefined);
  await closeAll([back]);
  assert.ok(await pttl(redis, `{uwsb}:rate:198.51.100.${fresh++}`) > 0, 'its bucket is in Redis again');
  assert.ok(gw.logs().some((l) => l.event === 'cluster_fallback_end'), 'the way back is logged');
  const down = gw.logs().filter((l) => l.event === 'cluster_fallback').length;

  redis.freeze();
  t.after(() => redis.thaw());
  const before = fallbacks(await metrics(gw));
  const frozen: Outcome[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    frozen.push(await attempt(url, '198.51.100.23'));
    t.diagnostic(`frozen: answered ${Math.round(performance.now() - started)} ms after the upgrade was sent`);
  }
  assert.deepEqual(tally(frozen), { CLUSTER_UNAVAILABLE: 3, RATE_LIMITED: 2 }, 'the local bucket limits while Redis hangs');
  assert.ok(fallbacks(await metrics(gw)) >= before + 5);
  assert.equal(gw.logs().filter((l) => l.event === 'cluster_fallback').length, down + 1, 'one more transition, one more line, for 5 requests');
  redis.thaw();
  await until(async () => {
    const o = await attempt(url, `198.51.100.${fresh++}`);
    await closeAll([o]);
    return o.ws !== undefined;
  }, 'admission and the shared bucket to work again once Redis runs');
});

void test('tickets: minted on node 1, redeemed once on node 3; a reuse on node 2 and another address are refused; Redis holds only the digest', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const { file, token } = tokenFile(t);
  const nodes = await startNodes(t, 3, redis.url, ['--auth-tokens', file, '--rate-burst', '1000']);
  const ip = '198.51.100.50';
  const target = { host: '127.0.0.1', port: ssh.port };
  const path = `/ws/127.0.0.1/${ssh.port}`;
  const issued = await postTicket(node(nodes, 0), token, ip, target);
  assert.equal(issued.status, 200);
  const ticket = String(issued.body['ticket']);
  const keys = await redis.command('KEYS', '{uwsb}:ticket:*');
  assert.ok(keys.includes(`{uwsb}:ticket:${ticketDigest(ticket)}`) && !keys.includes(ticket), `keys: ${keys}`);
  const ttl = await pttl(redis, `{uwsb}:ticket:${ticketDigest(ticket)}`);
  assert.ok(ttl > 0 && ttl <= 30_000, `the ticket expires with its TTL: PTTL ${ttl}`);
  assert.deepEqual(((await (await fetch(`${node(nodes, 1).url}/stats`)).json()) as { tickets: unknown }).tickets, { outstanding: 1 }, 'every node sees the live ticket');

  const ws = await openWs(`${node(nodes, 2).wsBase}${path}?ticket=${ticket}`, { protocol: V1, headers: { 'X-Forwarded-For': ip } });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.close();
  await ws.closed;
  const again = await attempt(`${node(nodes, 1).wsBase}${path}?ticket=${ticket}`, ip);
  assert.deepEqual([again.status, again.code], [401, 'TICKET_INVALID'], 'redeemed once');

  const stolen = await postTicket(node(nodes, 0), token, ip, target);
  const elsewhere = await attempt(`${node(nodes, 1).wsBase}${path}?ticket=${String(stolen.body['ticket'])}`, '198.51.100.51');
  assert.deepEqual([elsewhere.status, elsewhere.code], [401, 'TICKET_INVALID']);
  assert.match(elsewhere.body ?? '', /another address/);
  const gone = await attempt(`${node(nodes, 2).wsBase}${path}?ticket=${String(stolen.body['ticket'])}`, ip);
  assert.equal(gone.code, 'TICKET_INVALID', 'gone at the first attempt, whatever its outcome');
  assert.equal(await redis.command('EXISTS', '{uwsb}:tickets'), ':0\r\n', 'no live ticket left: the index is gone');
});

void test('tickets fail closed: Redis stopped or frozen, minting and redeeming answer CLUSTER_UNAVAILABLE (v1: close 1013) promptly; restarted empty, the next ticket works', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const { file, token } = tokenFile(t);
  const nodes = await startNodes(t, 2, redis.url, ['--auth-tokens', file, '--rate-burst', '1000']);
  const ip = '198.51.100.60';
  const target = { host: '127.0.0.1', port: ssh.port };
  const path = `/ws/127.0.0.1/${ssh.port}`;
  const minted = await postTicket(node(nodes, 0), token, ip, target);
  assert.equal(minted.status, 200);
  const minted2 = await postTicket(node(nodes, 0), token, ip, target);

  const refusals = async (label: string): Promise<void> => {
    let started = performance.now();
    const mint = await postTicket(node(nodes, 0), token, ip, target);
    assert.deepEqual([mint.status, mint.body['code']], [503, 'CLUSTER_UNAVAILABLE'], `${label}: mint`);
    t.diagnostic(`${label}: mint refused in ${Math.round(performance.now() - started)} ms`);
    started = performance.now();
    const seed = await attempt(`${node(nodes, 1).wsBase}${path}?ticket=${String(minted.body['ticket'])}`, ip);
    assert.deepEqual([seed.status, seed.code], [503, 'CLUSTER_UNAVAILABLE'], `${label}: redeem (seed)`);
    t.diagnostic(`${label}: redeem refused in ${Math.round(performance.now() - started)} ms`);
    const v1 = await openWs(`${node(nodes, 1).wsBase}${path}?ticket=${String(minted2.body['ticket'])}`, { protocol: V1, headers: { 'X-Forwarded-For': ip } });
    const closed = await v1.closed;
    assert.equal(closed.code, 1013, `${label}: redeem (v1) ${closed.reason}`);
    assert.match(closed.reason, /^CLUSTER_UNAVAILABLE/);
  };
  await redis.stop();
  await refusals('stopped');
  await redis.restartEmpty();
  await until(async () => (await postTicket(node(nodes, 0), token, ip, target)).status === 200, 'minting to work again', 15_000);
  // Each node has its own Redis connection: node 1 may reconnect later than node 0 (a loaded
  // machine: its mint answered 503 and the test redeemed `?ticket=undefined`), so its own mint is
  // what is waited for.
  const fresh = { ticket: '' };
  await until(async () => {
    const r = await postTicket(node(nodes, 1), token, ip, target);
    if (r.status === 200) fresh.ticket = String(r.body['ticket']);
    return fresh.ticket !== '';
  }, 'minting on node 1 to work again', 15_000);
  await until(() => nodes.every((b) => b.app.manager.stats().cluster?.valid === true), 'the nodes to hold their leases again');
  const ws = await openWs(`${node(nodes, 0).wsBase}${path}?ticket=${fresh.ticket}`, { protocol: V1, headers: { 'X-Forwarded-For': ip } });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.close();
  await ws.closed;
  const lost = await attempt(`${node(nodes, 0).wsBase}${path}?ticket=${String(minted.body['ticket'])}`, ip);
  assert.equal(lost.code, 'TICKET_INVALID', 'a ticket Redis lost in the restart is refused, not honoured');

  redis.freeze();
  t.after(() => redis.thaw());
  await refusals('frozen');
  redis.thaw();
  await until(async () => (await postTicket(node(nodes, 0), token, ip, target)).status === 200, 'minting to work again once Redis runs');
  assert.match(await metrics(node(nodes, 0)), /^webssh_bridge_rejections_total\{reason="CLUSTER_UNAVAILABLE"\} [1-9]\d*$/m);
});

void test('--workers 2 node (the primary asks Redis) and an in-process node: tickets cross both ways, a ban holds on both; with Redis down the worker\'s ticket refusal is CLUSTER_UNAVAILABLE, not INTERNAL', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const { file, token } = tokenFile(t);
  const flags = ['--auth-tokens', file, '--auth-ban-failures', '2', '--rate-burst', '1000', '--trusted-proxies', '127.0.0.1', '--host-key-policy', 'accept-new-insecure'];
  const cli = spawnCli(['--server-address', '127.0.0.1:0', '--workers', '2', '--cluster-redis', redis.url, ...keyringFlags(t), '--node-id', 'workers', '--cluster-lease', `${LEASE_MS}ms`, ...flags]);
  t.after(() => cli.close());
  const port = await cli.listening();
  await cli.waitForLog((l) => l.event === 'cluster_start');
  const [other] = await startNodes(t, 1, redis.url, flags);
  assert.ok(other !== undefined);
  const workers = { url: `http://127.0.0.1:${port}`, wsBase: `ws://127.0.0.1:${port}` };
  const ip = '198.51.100.70';
  const target = { host: '127.0.0.1', port: ssh.port };
  const path = `/ws/127.0.0.1/${ssh.port}`;
  const cross = async (from: { url: string }, to: { wsBase: string }): Promise<void> => {
    const issued = await postTicket(from, token, ip, target);
    assert.equal(issued.status, 200, JSON.stringify(issued.body));
    const o = await attempt(`${to.wsBase}${path}?ticket=${String(issued.body['ticket'])}`, ip);
    assert.ok(o.ws !== undefined, `redeemed: ${JSON.stringify(o)}`);
    await closeAll([o]);
  };
  await cross(workers, other);
  await cross(other, workers);
  for (let i = 0; i < 2; i++) {
    const wrong = await attempt(`${(i === 0 ? workers : other).wsBase}${path}`, '198.51.100.71', { Authorization: `Bearer ${registerSecret(newToken().token)}` });
    assert.equal(wrong.code, 'BRIDGE_AUTH_INVALID');
  }
  for (const n of [workers, other]) assert.equal((await attempt(`${n.wsBase}${path}`, '198.51.100.71')).code, 'AUTH_BANNED');
  await redis.stop();
  const mint = await postTicket(workers, token, ip, target);
  assert.deepEqual([mint.status, mint.body['code']], [503, 'CLUSTER_UNAVAILABLE']);
  const redeem = await attempt(`${workers.wsBase}${path}?ticket=${'x'.repeat(43)}`, ip);
  assert.deepEqual([redeem.status, redeem.code], [503, 'CLUSTER_UNAVAILABLE']);
});
