/**
 * Gateway (bridge) authentication end to end, against the real server and the in-process ssh2
 * server: bearer tokens, JWT (public key and JWKS), the trusted proxy header, one-time tickets
 * and their CSRF rules, claim restrictions, the ban, and reloading the token file. Every token,
 * JWT and ticket used is a registered secret, so each bridge's log scan proves none is logged.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, SignJWT } from 'jose';
import { newToken } from '../../src/auth/tokens.js';
import { setupFake, seedLogin } from '../helpers/fake-session.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const ISS = 'https://idp.test';
const AUD = 'webssh-bridge-test';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-bauth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function tokenFile(dir: string, name = 'ci'): { file: string; token: string } {
  const { token, line } = newToken(name);
  registerSecret(token);
  const file = join(dir, 'tokens');
  writeFileSync(file, `# test tokens\n${line}\n`);
  return { file, token };
}

interface TicketReply { status: number; body: Record<string, unknown> }

async function postTicket(base: string, opts: { auth?: string; origin?: string | null; type?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<TicketReply> {
  const headers: Record<string, string> = { 'Content-Type': opts.type ?? 'application/json', ...opts.headers };
  if (opts.origin !== null) headers['Origin'] = opts.origin ?? base;
  if (opts.auth !== undefined) headers['Authorization'] = `Bearer ${opts.auth}`;
  const res = await fetch(`${base}/api/ticket`, { method: 'POST', headers, body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body ?? {}) });
  const body = (await res.json()) as Record<string, unknown>;
  if (typeof body['ticket'] === 'string') registerSecret(body['ticket']);
  return { status: res.status, body };
}

async function v1Login(url: string, opts: { headers?: Record<string, string>; username?: string } = {}): Promise<TestWs> {
  const ws = await openWs(url, { protocol: V1, ...(opts.headers === undefined ? {} : { headers: opts.headers }) });
  ws.sendJson({ type: 'auth', username: opts.username ?? 'alice', password: 'wonderland' });
  return ws;
}

void describe('bearer tokens', () => {
  void it('no credential: 401 BRIDGE_AUTH_REQUIRED (seed client) or close 4006 (v1); the right token opens a session', async (t) => {
    const { file, token } = tokenFile(tempDir(t));
    const { ssh, bridge, url } = await setupFake(t, ['--auth-tokens', file]);
    const none = await expectHttpRejection(url);
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="webssh-bridge"');
    assert.deepEqual(none.body, { code: 'BRIDGE_AUTH_REQUIRED', message: 'gateway authentication required' });

    const v1 = await openWs(url, { protocol: V1 });
    const closed = await v1.closed;
    assert.equal(closed.code, 4006);
    assert.match(closed.reason, /^BRIDGE_AUTH_REQUIRED:/);

    const ok = await openWs(url, { headers: { Authorization: `Bearer ${token}` } });
    ok.sendJson({ username: ssh.username, password: ssh.password });
    await ok.waitForOutput(FAKE_PROMPT);
    ok.close();
    await ok.closed;
    const start = bridge.logs().find((l) => l['event'] === 'session_start');
    assert.equal(start?.['auth_method'], 'token');
    assert.equal(start?.['subject'], 'ci');
  });

  void it('a wrong token or a non-Bearer scheme is 401 BRIDGE_AUTH_INVALID', async (t) => {
    const { file } = tokenFile(tempDir(t));
    const { url } = await setupFake(t, ['--auth-tokens', file]);
    const wrong = registerSecret(newToken().token);
    const r = await expectHttpRejection(url, { headers: { Authorization: `Bearer ${wrong}` } });
    assert.equal(r.status, 401);
    assert.equal((r.body as { code: string }).code, 'BRIDGE_AUTH_INVALID');
    const basic = await expectHttpRejection(url, { headers: { Authorization: 'Basic YWxpY2U6d29uZGVybGFuZA==' } });
    assert.equal((basic.body as { code: string }).code, 'BRIDGE_AUTH_INVALID');
  });

  void it('repeated bad credentials ban the address (AUTH_BANNED), counted in the rejections', async (t) => {
    const { file } = tokenFile(tempDir(t));
    const { bridge, url } = await setupFake(t, ['--auth-tokens', file, '--auth-ban-failures', '2', '--metrics-enabled']);
    for (let i = 0; i < 2; i++) {
      const r = await expectHttpRejection(url, { headers: { Authorization: `Bearer ${registerSecret(newToken().token)}` } });
      assert.equal(r.status, 401);
    }
    const banned = await expectHttpRejection(url);
    assert.equal(banned.status, 429);
    assert.equal((banned.body as { code: string }).code, 'AUTH_BANNED');
    const stats = (await (await fetch(`${bridge.url}/stats`)).json()) as { rejections: Record<string, number> };
    assert.equal(stats.rejections['BRIDGE_AUTH_INVALID'], 2);
    assert.equal(stats.rejections['AUTH_BANNED'], 1);
  });

  void it('the token file is re-read by reload(): a new token works, a removed one stops working', async (t) => {
    const dir = tempDir(t);
    const { file, token: old } = tokenFile(dir);
    const { ssh, bridge, url } = await setupFake(t, ['--auth-tokens', file]);
    const { token: fresh, line } = newToken('rotated');
    registerSecret(fresh);
    writeFileSync(file, `${line}\n`);
    await bridge.app.reload();
    const ws = await openWs(url, { headers: { Authorization: `Bearer ${fresh}` } });
    ws.sendJson({ username: ssh.username, password: ssh.password });
    await ws.waitForOutput(FAKE_PROMPT);
    ws.close();
    const r = await expectHttpRejection(url, { headers: { Authorization: `Bearer ${old}` } });
    assert.equal(r.status, 401);
    // A broken file keeps the tokens in force and says why.
    writeFileSync(file, 'garbage\n');
    await assert.rejects(bridge.app.reload(), /line 1/);
    const still = await openWs(url, { headers: { Authorization: `Bearer ${fresh}` } });
    still.close();
  });
});

void describe('one-time tickets', () => {
  void it('POST api/ticket -> ?ticket= opens one session; the same ticket a second time is TICKET_INVALID', async (t) => {
    const { file, token } = tokenFile(tempDir(t));
    const { ssh, bridge, url } = await setupFake(t, ['--auth-tokens', file]);
    const cfg = (await (await fetch(`${bridge.url}/config.json`)).json()) as Record<string, unknown>;
    assert.deepEqual(cfg['auth'], { required: true, methods: ['token'] });
    assert.equal(cfg['ticketPath'], 'api/ticket');

    const issued = await postTicket(bridge.url, { auth: token, body: { host: '127.0.0.1', port: ssh.port } });
    assert.equal(issued.status, 200);
    assert.equal(issued.body['expires_in'], 30);
    const ticket = String(issued.body['ticket']);
    const ws = await v1Login(`${url}?ticket=${ticket}`);
    await ws.waitForOutput(FAKE_PROMPT);
    ws.close();
    await ws.closed;

    const again = await openWs(`${url}?ticket=${ticket}`, { protocol: V1 });
    const closed = await again.closed;
    assert.equal(closed.code, 4006);
    assert.equal(closed.reason, 'TICKET_INVALID: ticket invalid, expired or already used: unknown or already used');
    const seed = await expectHttpRejection(`${url}?ticket=${ticket}`);
    assert.equal(seed.status, 401);
    assert.equal((seed.body as { code: string }).code, 'TICKET_INVALID');
    assert.ok(bridge.logs().some((l) => l['event'] === 'ticket_issued' && l['subject'] === 'ci'));
  });

  void it('a ticket expires, and is bound to its target and client address', async (t) => {
    const { file, token } = tokenFile(tempDir(t));
    const { ssh, bridge, url } = await setupFake(t, ['--auth-tokens', file, '--auth-ticket-ttl', '200ms', '--trusted-proxies', '127.0.0.1']);
    const target = { host: '127.0.0.1', port: ssh.port };
    const expired = await postTicket(bridge.url, { auth: token, body: target });
    await new Promise((r) => setTimeout(r, 300));
    const r1 = await expectHttpRejection(`${url}?ticket=${String(expired.body['ticket'])}`);
    assert.match(JSON.stringify(r1.body), /TICKET_INVALID.*expired/);

    const other = await postTicket(bridge.url, { auth: token, body: { host: '127.0.0.1', port: ssh.port + 1 } });
    const r2 = await expectHttpRejection(`${url}?ticket=${String(other.body['ticket'])}`);
    assert.match(JSON.stringify(r2.body), /another target/);

    const xff = await postTicket(bridge.url, { auth: token, body: target, headers: { 'X-Forwarded-For': '198.51.100.7' } });
    const r3 = await expectHttpRejection(`${url}?ticket=${String(xff.body['ticket'])}`, { headers: { 'X-Forwarded-For': '198.51.100.8' } });
    assert.match(JSON.stringify(r3.body), /another address/);
  });

  void it('CSRF: no Origin, a foreign Origin, a cross-site fetch or a simple content type are refused', async (t) => {
    const { file, token } = tokenFile(tempDir(t));
    const { ssh, bridge } = await setupFake(t, ['--auth-tokens', file]);
    const body = { host: '127.0.0.1', port: ssh.port };
    const noOrigin = await postTicket(bridge.url, { auth: token, origin: null, body });
    assert.deepEqual([noOrigin.status, noOrigin.body['code']], [403, 'CSRF_REJECTED']);
    const foreign = await postTicket(bridge.url, { auth: token, origin: 'https://evil.example', body });
    assert.deepEqual([foreign.status, foreign.body['code']], [403, 'CSRF_REJECTED']);
    const crossSite = await postTicket(bridge.url, { auth: token, body, headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.deepEqual([crossSite.status, crossSite.body['code']], [403, 'CSRF_REJECTED']);
    const simple = await postTicket(bridge.url, { auth: token, type: 'text/plain', body });
    assert.deepEqual([simple.status, simple.body['code']], [415, 'UNSUPPORTED_MEDIA_TYPE']);
    const get = await fetch(`${bridge.url}/api/ticket`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
  });

  void it('bad bodies and missing credentials get stable codes', async (t) => {
    const { file, token } = tokenFile(tempDir(t));
    const { bridge } = await setupFake(t, ['--auth-tokens', file]);
    const cases: Array<[Parameters<typeof postTicket>[1], number, string]> = [
      [{ auth: token, body: 'not json' }, 400, 'BAD_REQUEST'],
      [{ auth: token, body: [] }, 400, 'BAD_REQUEST'],
      [{ auth: token, body: { host: '127.0.0.1' } }, 400, 'BAD_REQUEST'],
      [{ auth: token, body: { host: '127.0.0.1', port: 70000 } }, 400, 'BAD_PORT'],
      [{ auth: token, body: { host: '127.0.0.1', port: 22, pad: 'x'.repeat(5000) } }, 413, 'BODY_TOO_LARGE'],
      [{ body: { host: '127.0.0.1', port: 22 } }, 401, 'BRIDGE_AUTH_REQUIRED'],
      [{ auth: registerSecret(newToken().token), body: { host: '127.0.0.1', port: 22 } }, 401, 'BRIDGE_AUTH_INVALID'],
    ];
    for (const [opts, status, code] of cases) {
      const r = await postTicket(bridge.url, opts);
      assert.deepEqual([r.status, r.body['code']], [status, code], JSON.stringify(r.body));
    }
  });

  void it('with gateway auth off there is no ticket endpoint and config.json says so', async (t) => {
    const { bridge } = await setupFake(t);
    const r = await postTicket(bridge.url, { body: {} });
    assert.equal(r.status, 404);
    const cfg = (await (await fetch(`${bridge.url}/config.json`)).json()) as Record<string, unknown>;
    assert.deepEqual(cfg['auth'], { required: false, methods: [] });
  });
});

void describe('JWT', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');

  async function jwt(claims: Record<string, unknown>, opts: { exp?: number | string; aud?: string; kid?: string } = {}): Promise<string> {
    const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', ...(opts.kid === undefined ? {} : { kid: opts.kid }) })
      .setIssuer(ISS).setAudience(opts.aud ?? AUD).setIssuedAt().setExpirationTime(opts.exp ?? '5m').sign(privateKey);
    return registerSecret(token);
  }

  async function jwks(t: { after(fn: () => Promise<void> | void): void }): Promise<{ url: string; hits: () => number }> {
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    let hits = 0;
    const server: Server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`, hits: () => hits };
  }

  void it('JWKS: a valid token opens a session; expired and wrong-audience tokens are refused with their reason', async (t) => {
    const keys = await jwks(t);
    const { ssh, bridge, url } = await setupFake(t, ['--auth-jwt-jwks', keys.url, '--auth-jwt-issuer', ISS, '--auth-jwt-audience', AUD]);
    const ws = await openWs(url, { headers: { Authorization: `Bearer ${await jwt({ sub: 'alice@idp' }, { kid: 'k1' })}` } });
    ws.sendJson({ username: ssh.username, password: ssh.password });
    await ws.waitForOutput(FAKE_PROMPT);
    ws.close();
    assert.ok(keys.hits() >= 1);
    assert.equal(bridge.logs().find((l) => l['event'] === 'session_start')?.['subject'], 'alice@idp');

    const expired = await expectHttpRejection(url, { headers: { Authorization: `Bearer ${await jwt({ sub: 'a' }, { kid: 'k1', exp: Math.floor(Date.now() / 1000) - 600 })}` } });
    assert.deepEqual([expired.status, expired.body], [401, { code: 'BRIDGE_AUTH_INVALID', message: 'gateway credential rejected: token expired' }]);
    const wrongAud = await expectHttpRejection(url, { headers: { Authorization: `Bearer ${await jwt({ sub: 'a' }, { kid: 'k1', aud: 'other' })}` } });
    assert.deepEqual([wrongAud.status, wrongAud.body], [401, { code: 'BRIDGE_AUTH_INVALID', message: 'gateway credential rejected: claim aud not accepted' }]);
  });

  void it('an unreachable JWKS is 503 BRIDGE_AUTH_UNAVAILABLE, not the bearer\'s fault', async (t) => {
    const keys = await jwks(t);
    const dead = keys.url.replace(/:\d+\//, ':1/');
    const { url } = await setupFake(t, ['--auth-jwt-jwks', dead, '--auth-jwt-issuer', ISS, '--auth-jwt-audience', AUD]);
    const r = await expectHttpRejection(url, { headers: { Authorization: `Bearer ${await jwt({ sub: 'a' }, { kid: 'k1' })}` } });
    assert.equal(r.status, 503);
    assert.equal((r.body as { code: string }).code, 'BRIDGE_AUTH_UNAVAILABLE');
    assert.equal(r.headers['retry-after'], '5', 'every 503 says when to come back');
  });

  void it('claims narrow the gateway: webssh_users refuses another SSH user, webssh_targets another target', async (t) => {
    const dir = tempDir(t);
    const pem = join(dir, 'jwt.pub');
    writeFileSync(pem, publicKey.export({ type: 'spki', format: 'pem' }));
    const { ssh, bridge, url } = await setupFake(t, ['--auth-jwt-public-key', pem, '--auth-jwt-issuer', ISS, '--auth-jwt-audience', AUD]);
    const onlyBob = await jwt({ sub: 'bob@idp', webssh_users: ['bob'] });
    const denied = await v1Login(url, { headers: { Authorization: `Bearer ${onlyBob}` } });
    const closed = await denied.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /^USER_DENIED: ssh user not permitted for this identity: alice for bob@idp/);
    assert.equal(ssh.events.authFailures, 0, 'nothing was dialed');

    const ticketed = await postTicket(bridge.url, { auth: await jwt({ sub: 'c', webssh_targets: [`127.0.0.1:${ssh.port + 1}`] }), body: { host: '127.0.0.1', port: ssh.port } });
    assert.equal(ticketed.status, 200, 'the ticket is issued; the target is judged after DNS at the upgrade');
    const refused = await expectHttpRejection(`${url}?ticket=${String(ticketed.body['ticket'])}`);
    assert.equal(refused.status, 403);
    assert.match(JSON.stringify(refused.body), /TARGET_DENIED.*not permitted for c/);

    const allowed = await jwt({ sub: 'd', webssh_targets: [`127.0.0.1:${ssh.port}`], webssh_users: ['ali*'] });
    const ok = await v1Login(url, { headers: { Authorization: `Bearer ${allowed}` } });
    await ok.waitForOutput(FAKE_PROMPT);
    ok.close();
  });
});

void describe('trusted proxy header', () => {
  void it('is believed from a trusted proxy only', async (t) => {
    const { ssh, bridge, url } = await setupFake(t, ['--auth-proxy-header', 'X-Forwarded-User', '--trusted-proxies', '127.0.0.1']);
    const ws = await openWs(url, { headers: { 'X-Forwarded-User': 'carol' } });
    ws.sendJson({ username: ssh.username, password: ssh.password });
    await ws.waitForOutput(FAKE_PROMPT);
    ws.close();
    await ws.closed;
    assert.equal(bridge.logs().find((l) => l['event'] === 'session_start')?.['subject'], 'carol');
    const missing = await expectHttpRejection(url);
    assert.equal((missing.body as { code: string }).code, 'BRIDGE_AUTH_REQUIRED');
    // In proxy mode the page's POST carries no Authorization: the proxy's header is the credential.
    const ticket = await postTicket(bridge.url, { headers: { 'X-Forwarded-User': 'carol' }, body: { host: '127.0.0.1', port: ssh.port } });
    assert.equal(ticket.status, 200);
  });

  void it('a repeated header is refused, not joined into one user name', async (t) => {
    const { url } = await setupFake(t, ['--auth-proxy-header', 'X-Forwarded-User', '--trusted-proxies', '127.0.0.1']);
    // A raw request: fetch and ws would merge the two copies before sending.
    const { connect } = await import('node:net');
    const port = new URL(url).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1', () => s.write(
        `GET ${new URL(url).pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Forwarded-User: mallory\r\nX-Forwarded-User: carol\r\n\r\n'));
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.once('close', () => resolve(text));
      s.once('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 401/);
    assert.match(reply, /x-forwarded-user sent more than once/);
  });

  void it('from an untrusted peer the header is ignored', async (t) => {
    const { url } = await setupFake(t, ['--auth-proxy-header', 'X-Forwarded-User', '--trusted-proxies', '10.0.0.0/8']);
    const r = await expectHttpRejection(url, { headers: { 'X-Forwarded-User': 'mallory' } });
    assert.equal(r.status, 401);
    assert.equal((r.body as { code: string }).code, 'BRIDGE_AUTH_REQUIRED');
  });
});

void describe('seed clients keep working with auth off', () => {
  void it('no credential needed on loopback by default', async (t) => {
    const { ssh, url } = await setupFake(t);
    const ws = await seedLogin(url, ssh);
    ws.close();
  });
});
