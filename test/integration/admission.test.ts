/**
 * The upgrade path end to end: path, client IP, rate limit, origin, target policy, limits; and
 * the seed's defects 5, 6, 7 and 9 as tests it failed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { startBridge } from '../helpers/bridge.js';
import { startFakeSsh, startTarpit, FAKE_PROMPT } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs, type TestWs } from '../helpers/ws-client.js';
import type { LookupFn } from '../../src/policy/target.js';

const V1 = 'webssh-bridge.v1';

const stubLookup = (names: Record<string, string[]>): LookupFn & { calls: string[] } => {
  const calls: string[] = [];
  const fn = (host: string): Promise<Array<{ address: string; family: 4 | 6 }>> => {
    calls.push(host);
    const addrs = names[host];
    if (addrs === undefined) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addrs.map((address) => ({ address, family: address.includes(':') ? 6 as const : 4 as const })));
  };
  return Object.assign(fn, { calls });
};

void test('bad paths and ports are 400 with a JSON code; plain GET on the route is 426', async (t) => {
  const bridge = await startBridge();
  t.after(() => bridge.close());
  for (const [path, code] of [['/ws/host', 'BAD_PATH'], ['/ws/a b/22', 'BAD_PATH'], ['/ws/h/0', 'BAD_PORT'], ['/ws/h/65536', 'BAD_PORT'], ['/other', 'BAD_PATH']] as const) {
    const r = await expectHttpRejection(`${bridge.wsBase}${path}`);
    assert.equal(r.status, 400, path);
    assert.equal((r.body as { code: string }).code, code, path);
  }
  const res = await fetch(`${bridge.url}/ws/127.0.0.1/22`);
  assert.equal(res.status, 426);
  assert.equal(((await res.json()) as { code: string }).code, 'UPGRADE_REQUIRED');
});

void test('IPv6 literal targets are accepted bare and in brackets', async (t) => {
  const bridge = await startBridge(['--ssh-connect-timeout', '2s']);
  t.after(() => bridge.close());
  const tarpit = await startTarpit(); // listens on 127.0.0.1 only, so ::1 is refused: 4003, not 400
  t.after(() => tarpit.close());
  for (const host of ['::1', '[::1]', '%5B::1%5D']) {
    const ws = await openWs(`${bridge.wsBase}/ws/${host}/${tarpit.port}`);
    ws.sendJson({ username: 'u', password: 'p' });
    const closed = await ws.closed;
    assert.equal(closed.code, 4003, host);
  }
});

void test('foreign Origin is 403; same origin, listed origins and no Origin are allowed', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--allowed-origins', 'https://console.example', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const r = await expectHttpRejection(url, { origin: 'https://evil.example' });
  assert.equal(r.status, 403);
  assert.equal((r.body as { code: string }).code, 'ORIGIN_FORBIDDEN');
  for (const origin of [bridge.url, 'https://console.example', undefined]) {
    const ws = await openWs(url, origin === undefined ? {} : { origin });
    ws.close();
    await ws.closed;
  }
});

void test('metadata and link-local targets are refused before any dial, also behind a DNS name', async (t) => {
  const tarpit = await startTarpit();
  t.after(() => tarpit.close());
  const lookup = stubLookup({ 'meta.test': ['169.254.169.254'], 'mixed.test': ['127.0.0.1', '169.254.169.254'] });
  const bridge = await startBridge([], { lookup });
  t.after(() => bridge.close());
  for (const host of ['169.254.169.254', 'meta.test', 'mixed.test', '%5Bfe80::1%5D', '%5B::ffff:169.254.169.254%5D']) {
    const r = await expectHttpRejection(`${bridge.wsBase}/ws/${host}/${tarpit.port}`);
    assert.equal(r.status, 403, host);
    assert.equal((r.body as { code: string }).code, 'TARGET_DENIED', host);
  }
  const v1 = await openWs(`${bridge.wsBase}/ws/mixed.test/${tarpit.port}`, { protocol: V1 });
  const closed = await v1.closed;
  assert.equal(closed.code, 1008);
  assert.match(closed.reason, /^TARGET_DENIED/);
  assert.equal(tarpit.connections(), 0, 'a denied target is never dialed');
  assert.deepEqual(lookup.calls.filter((h) => h === 'meta.test').length, 1);
});

void test('an unresolvable name: seed gets HTTP 502, v1 gets close 4003', async (t) => {
  const bridge = await startBridge([], { lookup: stubLookup({}) });
  t.after(() => bridge.close());
  const r = await expectHttpRejection(`${bridge.wsBase}/ws/nowhere.test/22`);
  assert.equal(r.status, 502);
  assert.equal((r.body as { code: string }).code, 'DNS_FAILED');
  const v1 = await openWs(`${bridge.wsBase}/ws/nowhere.test/22`, { protocol: V1 });
  assert.equal((await v1.closed).code, 4003);
});

void test('the resolved address is dialed: a name and its IP share one per-target limit', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--conn-max-per-target', '1', '--host-key-policy', 'accept-new-insecure'], { lookup: stubLookup({ 'box.test': ['127.0.0.1'] }) });
  t.after(() => bridge.close());
  const a = await openWs(`${bridge.wsBase}/ws/box.test/${ssh.port}`);
  a.sendJson({ username: ssh.username, password: ssh.password });
  await a.waitForOutput(FAKE_PROMPT);
  const r = await expectHttpRejection(`${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`);
  assert.equal(r.status, 503);
  assert.equal((r.body as { code: string }).code, 'LIMIT_PER_TARGET');
  assert.ok(r.headers['retry-after'] !== undefined);
  a.close();
});

void test('limits: total and per client IP; seed gets 503 + Retry-After, v1 gets close 1013', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--conn-max-total', '2', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const held = [await openWs(url), await openWs(url)];
  const r = await expectHttpRejection(url);
  assert.equal(r.status, 503);
  assert.equal((r.body as { code: string }).code, 'LIMIT_TOTAL');
  assert.match(String(r.headers['retry-after']), /^\d+$/);
  const v1 = await openWs(url, { protocol: V1 });
  const closed = await v1.closed;
  assert.equal(closed.code, 1013);
  assert.match(closed.reason, /^LIMIT_TOTAL/);
  for (const w of held) w.close();
  await Promise.all(held.map((w) => w.closed));
  assert.equal((await fetch(`${bridge.url}/stats`)).status, 404, '/stats is off unless metrics are enabled');

  const perIp = await startBridge(['--conn-max-per-host', '1', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => perIp.close());
  const url2 = `${perIp.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const one = await openWs(url2);
  const r2 = await expectHttpRejection(url2);
  assert.equal((r2.body as { code: string }).code, 'LIMIT_PER_IP');
  one.close();
});

void test('a session the bridge ends gives its slot back before the client hears the end: an immediate new login is not refused', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--conn-max-per-host', '1', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  for (let i = 0; i < 3; i++) {
    const ws = await openWs(url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
    await ws.waitForOutput(FAKE_PROMPT);
    ws.sendBinary(Buffer.from('exit 0\r'));
    // `exit` comes just before the close frame, so the close handshake has not happened yet.
    await ws.waitForControl((m) => (m as { type?: string }).type === 'exit');
    assert.equal(bridge.app.manager.stats().active, 0, 'the slot is back once the session has begun to close');
    const next = await openWs(url, { protocol: V1 });
    next.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
    await next.waitForOutput(FAKE_PROMPT);
    next.close();
    assert.equal((await ws.closed).code, 1000);
    await next.closed;
  }
});

void test('concurrent upgrades never overshoot the limit (admission is atomic)', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--conn-max-total', '5', '--conn-max-per-host', '100', '--conn-max-per-target', '100', '--rate-burst', '1000', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const results = await Promise.allSettled(Array.from({ length: 25 }, () => openWs(url)));
  const opened = results.filter((r): r is PromiseFulfilledResult<TestWs> => r.status === 'fulfilled');
  assert.equal(opened.length, 5);
  assert.equal(bridge.app.manager.stats().active, 5);
  assert.equal(bridge.app.manager.stats().rejections.LIMIT_TOTAL, 20);
  for (const r of opened) r.value.close();
});

// A denied target passes path, rate and origin checks before it is refused (403), so it spends a token.
const DENIED = '/ws/169.254.169.254/22';

void test('X-Forwarded-For from an untrusted peer is ignored: spoofing does not dodge the rate limit', async (t) => {
  const bridge = await startBridge(['--rate-burst', '3', '--rate-interval', '1m']);
  t.after(() => bridge.close());
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await expectHttpRejection(`${bridge.wsBase}${DENIED}`, { headers: { 'X-Forwarded-For': `198.51.100.${i}` } });
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, [403, 403, 403, 429]);
  const ok = await startBridge(['--rate-burst', '1', '--rate-interval', '1m', '--trusted-proxies', '127.0.0.0/8']);
  t.after(() => ok.close());
  for (let i = 0; i < 3; i++) {
    const r = await expectHttpRejection(`${ok.wsBase}${DENIED}`, { headers: { 'X-Forwarded-For': `198.51.100.${i}` } });
    assert.equal(r.status, 403, 'behind a trusted proxy each forwarded client has its own bucket');
  }
  const again = await expectHttpRejection(`${ok.wsBase}${DENIED}`, { headers: { 'X-Forwarded-For': '198.51.100.0' } });
  assert.equal(again.status, 429);
  assert.match(String(again.headers['retry-after']), /^\d+$/);
});

void test('rate whitelist CIDRs are exempt', async (t) => {
  const bridge = await startBridge(['--rate-burst', '1', '--rate-interval', '1m', '--rate-whitelist', ' 10.0.0.0/8 , 127.0.0.0/8 ']);
  t.after(() => bridge.close());
  for (let i = 0; i < 5; i++) assert.equal((await expectHttpRejection(`${bridge.wsBase}${DENIED}`)).status, 403);
});

void test('fixed-target mode: the path target is ignored, the page is told', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--target', `127.0.0.1:${ssh.port}`, '--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const ws = await openWs(`${bridge.wsBase}/ws/elsewhere.invalid/2222`);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.close();
  const cfg = (await (await fetch(`${bridge.url}/config.json`)).json()) as { fixedTarget: unknown };
  assert.deepEqual(cfg.fixedTarget, { host: '127.0.0.1', port: ssh.port });
});

void test('repeated SSH authentication failures ban the client IP (429 AUTH_BANNED with Retry-After)', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--auth-ban-failures', '3', '--auth-ban-duration', '1m', '--metrics-enabled']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  for (let i = 0; i < 3; i++) {
    const ws = await openWs(url);
    ws.sendJson({ username: ssh.username, password: 'not-the-password' });
    assert.equal((await ws.closed).code, 4001);
  }
  const r = await expectHttpRejection(url);
  assert.equal(r.status, 429);
  assert.equal((r.body as { code: string }).code, 'AUTH_BANNED');
  assert.match(String(r.headers['retry-after']), /^([1-5]\d|60)$/);
  const stats = (await (await fetch(`${bridge.url}/stats`)).json()) as { rejections: Record<string, number>; auth_ban: { banned: number } };
  assert.equal(stats.rejections.AUTH_BANNED, 1);
  assert.equal(stats.auth_ban.banned, 1);
  assert.equal(ssh.events.authFailures, 3, 'a banned client never reaches the SSH server');

  // The page (v1, same origin) can read it: the upgrade completes only to say so, with Retry-After's seconds.
  const v1 = await openWs(url, { protocol: 'webssh-bridge.v1' });
  const closed = await v1.closed;
  assert.equal(closed.code, 1013);
  assert.match(closed.reason, /^AUTH_BANNED/);
  const error = v1.controls().find((m) => (m as { type?: unknown }).type === 'error') as { code?: unknown; retryAfter?: unknown } | undefined;
  assert.equal(error?.code, 'AUTH_BANNED');
  assert.ok(typeof error?.retryAfter === 'number' && error.retryAfter > 0 && error.retryAfter <= 60, `retryAfter ${String(error?.retryAfter)}`);
  // A foreign origin learns nothing more than HTTP tells it.
  const foreign = await expectHttpRejection(url, { protocol: 'webssh-bridge.v1', origin: 'https://evil.example' });
  assert.equal(foreign.status, 429);
  assert.equal(ssh.events.authFailures, 3);
});

void test('a failed login says how many attempts are left when 2 or fewer remain, counted before the error goes out', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--auth-ban-failures', '4', '--auth-ban-duration', '2m']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  type ErrorMsg = { type: 'error'; code: string; attemptsLeft?: unknown; banSeconds?: unknown; retryAfter?: unknown };
  const fail = async (): Promise<{ error: ErrorMsg; ws: TestWs }> => {
    const ws = await openWs(url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: ssh.username, password: 'not-the-password' });
    const error = (await ws.waitForControl((m) => (m as { type?: unknown }).type === 'error')) as ErrorMsg;
    assert.equal(error.code, 'SSH_AUTH_FAILED');
    return { error, ws };
  };
  /** The fields of an `error` past type, code and message. */
  const fields = (e: ErrorMsg): Record<string, unknown> => Object.fromEntries(Object.entries(e).filter(([k]) => !['type', 'code', 'message'].includes(k)));

  const first = await fail();
  assert.deepEqual(fields(first.error), {}, '3 attempts left: nothing said');
  assert.equal((await first.ws.closed).code, 4001);
  const second = await fail();
  assert.deepEqual(fields(second.error), { attemptsLeft: 2, banSeconds: 120 });
  await second.ws.closed;
  const third = await fail();
  assert.deepEqual(fields(third.error), { attemptsLeft: 1, banSeconds: 120 });
  await third.ws.closed;
  const fourth = await fail();
  const last = fields(fourth.error);
  assert.equal(last.attemptsLeft, 0);
  assert.equal(last.banSeconds, undefined);
  assert.ok(typeof last.retryAfter === 'number' && last.retryAfter > 0 && last.retryAfter <= 120, `retryAfter ${String(last.retryAfter)}`);
  // The ban is in force by the time the client hears of it: asked while that socket still closes.
  const refused = await expectHttpRejection(url);
  assert.equal(refused.status, 429);
  assert.equal((refused.body as { code: string }).code, 'AUTH_BANNED');
  assert.equal((await fourth.ws.closed).code, 4001);
  assert.equal(ssh.events.authFailures, 4);
});

/** Active handles and timers of this process by kind (the bridge runs in it). */
const resources = (): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
};

void test('a storm of refused upgrades leaves nothing behind: no slot, tally, bucket, socket or timer outlives its refusal', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  // Rate limited but with room for the storm, so the client's bucket is tracked like any other.
  const bridge = await startBridge(['--conn-max-per-target', '1', '--rate-burst', '100000', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => bridge.close());
  const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
  const held = await openWs(url);
  held.sendJson({ username: ssh.username, password: ssh.password });
  await held.waitForOutput(FAKE_PROMPT);
  const { manager } = bridge.app;
  const stats = manager.stats();
  const gate = await manager.gateSnapshot();
  const before = resources();

  // Seed clients get 503 before any WebSocket exists; v1 clients an upgrade, `error` and 1013.
  const seen: string[] = [];
  const refuseOne = async (i: number): Promise<void> => {
    if (i % 2 === 0) {
      const r = await expectHttpRejection(url);
      seen.push(`${r.status} ${(r.body as { code: string }).code}`);
    } else {
      const ws = await openWs(url, { protocol: V1 });
      const closed = await ws.closed;
      seen.push(`${closed.code} ${closed.reason.split(':')[0] ?? ''}`);
    }
  };
  const N = 400;
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < N) await refuseOne(next++);
  }));
  assert.deepEqual([...new Set(seen)].sort(), ['1013 LIMIT_PER_TARGET', '503 LIMIT_PER_TARGET']);
  assert.equal(seen.length, N);

  const after = manager.stats();
  assert.equal(after.rejections.LIMIT_PER_TARGET, N);
  assert.deepEqual({ active: after.active, perClient: after.perClient, perTarget: after.perTarget }, { active: stats.active, perClient: stats.perClient, perTarget: stats.perTarget });
  const gateAfter = await manager.gateSnapshot();
  assert.deepEqual({ open: gateAfter.open, tracked: gateAfter.limiter.tracked, tickets: gateAfter.tickets }, { open: gate.open, tracked: gate.limiter.tracked, tickets: gate.tickets });
  // Every refused socket closes, on both sides, and every close-grace timer is cleared with it.
  const deadline = Date.now() + 2000; // well inside the 3 s close grace: a timer left armed is seen
  while (!isDeepStrictEqual(resources(), before) && Date.now() < deadline) await sleep(50);
  assert.deepEqual(resources(), before);
  held.close();
});
