/**
 * The guarded entry (src/http/guard.ts) and the routes' cross-site rules, fed plain request
 * objects: the order of the checks, who refuses at which stage, and the refusal accounting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { BridgeError, type ErrorCode } from '../../src/errors.js';
import { CidrSet } from '../../src/grammar/cidr.js';
import { jsonFromThisSite, notCrossSite, upgradeOrigin } from '../../src/http/cross-site.js';
import { Guard, refusalHeaders, type Refusal, type Site, type Stage } from '../../src/http/guard.js';
import type { AbuseRequests, EnterResult } from '../../src/manager/abuse.js';
import { local } from '../../src/util/requests.js';

const SITE: Site = { secure: false, allowedOrigins: [] };

function request(headers: Record<string, string> = {}, peer = '192.0.2.9'): IncomingMessage {
  return { socket: { remoteAddress: peer }, headers: { host: 'bridge.test', ...headers } } as unknown as IncomingMessage;
}

function rig(entered: EnterResult = { ok: true }) {
  const seen: string[] = [];
  const counted: ErrorCode[] = [];
  const failures: string[] = [];
  const answers: Array<{ refusal: Refusal; stage: Stage }> = [];
  const guard = new Guard({
    trusted: CidrSet.parse(['10.0.0.0/8']),
    site: SITE,
    abuse: local<Pick<AbuseRequests, 'enter' | 'authFailure'>, undefined>({
      enter: ({ clientIp: ip }) => {
        seen.push(`enter ${ip}`);
        return entered;
      },
      authFailure: ({ clientIp: ip, kind }) => {
        failures.push(`${ip} ${kind}`);
        return null;
      },
    }, undefined),
    rejections: { reject: (code) => counted.push(code) },
  });
  const route = (crossSite: Refusal | null, step: () => Promise<object>) => ({
    crossSite: () => {
      seen.push('cross-site');
      return crossSite;
    },
    step: () => {
      seen.push('step');
      return step();
    },
    answer: (refusal: Refusal, stage: Stage) => answers.push({ refusal, stage }),
  });
  return { guard, seen, counted, failures, answers, route };
}

void test('the client IP is the peer, or the forwarded address behind a trusted proxy', () => {
  const { guard } = rig();
  assert.equal(guard.clientIp(request({ 'x-forwarded-for': '198.51.100.1' })), '192.0.2.9');
  assert.equal(guard.clientIp(request({ 'x-forwarded-for': '198.51.100.1' }, '10.1.2.3')), '198.51.100.1');
});

void test('a request that passes runs ban and rate, cross-site, then the step, and gets its value', async () => {
  const r = rig();
  const value = { identity: 'x' };
  assert.equal(await r.guard.pass(request(), '192.0.2.9', r.route(null, () => Promise.resolve(value))), value);
  assert.deepEqual(r.seen, ['enter 192.0.2.9', 'cross-site', 'step']);
  assert.deepEqual(r.counted, []);
  assert.deepEqual(r.answers, []);
});

void test('a banned or rate-limited client is refused first, with Retry-After; from an allowed origin at the abuse stage (readable)', async () => {
  const r = rig({ ok: false, code: 'RATE_LIMITED', retryAfterS: 7 });
  assert.equal(await r.guard.pass(request(), '192.0.2.9', r.route(null, () => Promise.resolve({}))), null);
  assert.deepEqual(r.seen, ['enter 192.0.2.9', 'cross-site'], 'the step never runs');
  assert.deepEqual(r.counted, ['RATE_LIMITED']);
  assert.deepEqual(r.answers, [{ refusal: { code: 'RATE_LIMITED', retryAfterS: 7 }, stage: 'abuse' }]);
  assert.deepEqual(refusalHeaders({ code: 'RATE_LIMITED', retryAfterS: 7 }), { 'Retry-After': '7' }, 'the HTTP answer\'s header comes from it');
  assert.deepEqual(refusalHeaders({ code: 'ORIGIN_FORBIDDEN' }), {});
});

void test('a banned client from a refused origin is answered at the guard stage, with the ban (counted once)', async () => {
  const r = rig({ ok: false, code: 'AUTH_BANNED', retryAfterS: 240 });
  assert.equal(await r.guard.pass(request(), '192.0.2.9', r.route({ code: 'ORIGIN_FORBIDDEN' }, () => Promise.resolve({}))), null);
  assert.deepEqual(r.counted, ['AUTH_BANNED']);
  assert.deepEqual(r.answers, [{ refusal: { code: 'AUTH_BANNED', retryAfterS: 240 }, stage: 'guard' }]);
});

void test('a cross-site refusal comes before the step, at the guard stage', async () => {
  const r = rig();
  assert.equal(await r.guard.pass(request(), '192.0.2.9', r.route({ code: 'ORIGIN_FORBIDDEN' }, () => Promise.resolve({}))), null);
  assert.deepEqual(r.seen, ['enter 192.0.2.9', 'cross-site']);
  assert.deepEqual(r.answers, [{ refusal: { code: 'ORIGIN_FORBIDDEN' }, stage: 'guard' }]);
});

void test('a BridgeError from the step is a refusal at the route stage; a rejected credential counts towards the ban', async () => {
  const r = rig();
  assert.equal(await r.guard.pass(request(), '192.0.2.9', r.route(null, () => Promise.reject(new BridgeError('BRIDGE_AUTH_INVALID', 'no')))), null);
  assert.deepEqual(r.counted, ['BRIDGE_AUTH_INVALID']);
  assert.deepEqual(r.failures, ['192.0.2.9 gateway']);
  assert.equal(r.answers[0]?.stage, 'route');
  assert.equal(r.answers[0]?.refusal.code, 'BRIDGE_AUTH_INVALID');
  assert.equal(r.answers[0]?.refusal.detail, 'no');
});

void test('any other error from the step is the route\'s: rethrown, not counted', async () => {
  const r = rig();
  await assert.rejects(r.guard.pass(request(), '192.0.2.9', r.route(null, () => Promise.reject(new Error('disk')))), /disk/);
  assert.deepEqual(r.counted, []);
  assert.deepEqual(r.answers, []);
});

void test('refuse counts, charges the ban only for a rejected credential of a known client, then answers', () => {
  const r = rig();
  const answered: Refusal[] = [];
  r.guard.refuse('192.0.2.9', { code: 'TICKETS_FULL' }, (x) => answered.push(x));
  r.guard.refuse(null, { code: 'BRIDGE_AUTH_INVALID' }, (x) => answered.push(x));
  r.guard.refuse('192.0.2.9', { code: 'BRIDGE_AUTH_INVALID' }, (x) => answered.push(x));
  assert.deepEqual(r.counted, ['TICKETS_FULL', 'BRIDGE_AUTH_INVALID', 'BRIDGE_AUTH_INVALID']);
  assert.deepEqual(r.failures, ['192.0.2.9 gateway']);
  assert.equal(answered.length, 3);
});

void test('the upgrade\'s origin rule: none is fine, this site is fine, another site is refused', () => {
  assert.equal(upgradeOrigin(request(), SITE), null);
  assert.equal(upgradeOrigin(request({ origin: 'http://bridge.test' }), SITE), null);
  assert.deepEqual(upgradeOrigin(request({ origin: 'http://evil.test' }), SITE), { code: 'ORIGIN_FORBIDDEN' });
  assert.equal(upgradeOrigin(request({ origin: 'http://evil.test' }), { secure: false, allowedOrigins: ['http://evil.test'] }), null);
});

void test('the ticket route\'s rule: this site\'s Origin, not cross-site, then a JSON body', () => {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  assert.deepEqual(jsonFromThisSite(request(json), SITE), { code: 'CSRF_REJECTED', detail: 'Origin header required' });
  assert.deepEqual(jsonFromThisSite(request({ ...json, origin: 'http://evil.test' }), SITE), { code: 'CSRF_REJECTED', detail: undefined });
  assert.deepEqual(jsonFromThisSite(request({ ...json, origin: 'http://bridge.test', 'sec-fetch-site': 'same-site' }), SITE), { code: 'CSRF_REJECTED', detail: undefined });
  assert.deepEqual(jsonFromThisSite(request({ origin: 'http://bridge.test', 'content-type': 'text/plain' }), SITE), { code: 'UNSUPPORTED_MEDIA_TYPE' });
  assert.equal(jsonFromThisSite(request({ ...json, origin: 'http://bridge.test', 'sec-fetch-site': 'same-origin' }), SITE), null);
});

void test('the recordings route\'s rule: a request the browser marks as another site\'s is refused', () => {
  assert.equal(notCrossSite(request()), null);
  assert.equal(notCrossSite(request({ 'sec-fetch-site': 'same-origin' })), null);
  assert.equal(notCrossSite(request({ 'sec-fetch-site': 'none' })), null);
  assert.deepEqual(notCrossSite(request({ 'sec-fetch-site': 'same-site' })), { code: 'CSRF_REJECTED', detail: 'Sec-Fetch-Site: same-site' });
  assert.deepEqual(notCrossSite(request({ 'sec-fetch-site': 'cross-site' })), { code: 'CSRF_REJECTED', detail: 'Sec-Fetch-Site: cross-site' });
});
