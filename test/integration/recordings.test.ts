/**
 * The recordings API against real in-process bridges and the in-process ssh2 server: real
 * sessions make real recordings; the listing, the file bytes, traversal attempts sent as raw
 * request targets, who may (admin token, JWT claim, --admin-subjects with the proxy header) and
 * who may not (no credential, a plain token, a wrong token, which counts towards the ban), the
 * routes' absence without --record-dir, and their refusal without gateway authentication. Every
 * bridge's logs are scanned for the tokens when it closes.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { newToken } from '../../src/auth/tokens.js';
import type { BridgeHandle } from '../helpers/bridge.js';
import { setupFake, type FakeSetup } from '../helpers/fake-session.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const ISS = 'https://idp.test';
const AUD = 'webssh-bridge-test';
/** Rate limiting is not under test here: many requests per test come from 127.0.0.1. */
const NO_RATE = ['--rate-whitelist', '127.0.0.1'];

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
  json(): Record<string, unknown>;
}

/** A request with the target exactly as given (no URL normalization by the client). */
function raw(base: string, path: string, opts: { headers?: Record<string, string>; method?: string } = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string): Record<string, string> => ({ Authorization: `Bearer ${token}` });

function tempDir(t: TestContext, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Tokens { readonly file: string; readonly admin: string; readonly plain: string }

function tokenFile(dir: string): Tokens {
  const admin = newToken('ops', true);
  const plain = newToken('dev');
  registerSecret(admin.token);
  registerSecret(plain.token);
  const file = join(dir, 'tokens');
  writeFileSync(file, `# test tokens\n${admin.line}\n${plain.line}\n`);
  return { file, admin: admin.token, plain: plain.token };
}

/** One real session through the bridge: log in (gateway token on the upgrade), type `marker`, exit. */
async function recordSession(setup: FakeSetup, token: string | null, marker: string): Promise<string> {
  const ws = await openWs(setup.url, { protocol: V1, ...(token === null ? {} : { headers: bearer(token) }) });
  ws.sendJson({ type: 'auth', username: setup.ssh.username, password: setup.ssh.password, cols: 100, rows: 30 });
  const ready = (await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { sessionId: string };
  await ws.waitForOutput(FAKE_PROMPT);
  ws.sendBinary(Buffer.from(`${marker}\r`));
  await ws.waitForOutput(marker);
  ws.sendBinary(Buffer.from('exit 0\r'));
  assert.equal((await ws.closed).code, 1000);
  return ready.sessionId;
}

async function waitForLog(bridge: BridgeHandle, pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const end = Date.now() + 10_000;
  for (;;) {
    const hit = bridge.logs().find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > end) assert.fail(`no matching log line; logs:\n${bridge.logText().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const OLD_ID = 'a'.repeat(32);
const OLDER_ID = 'b'.repeat(32);
const OLD_NAME = `20210102T030405Z-${OLD_ID}.cast`;
const BROKEN_NAME = `20200101T000000Z-${OLDER_ID}.cast`;
const BROKEN_CONTENT = '{"version":2,"width":80,"hei';

/** Files next to the real recordings: an old valid one, one with a broken header, and things that are not recordings. */
function plantFiles(dir: string, outside: string): void {
  writeFileSync(join(dir, OLD_NAME), '{"version":2,"width":80,"height":24,"timestamp":1609556645,"title":"root@old.example:22","webssh_bridge":{"session":"' + OLD_ID + '","subject":"ci"}}\n[0.5,"o","old\\r\\n"]\n[2.25,"o","bye"]\n', { mode: 0o600 });
  writeFileSync(join(dir, BROKEN_NAME), BROKEN_CONTENT, { mode: 0o600 });
  writeFileSync(join(dir, 'notes.txt'), 'not a recording');
  mkdirSync(join(dir, `20220101T000000Z-${'c'.repeat(32)}.cast`));
  writeFileSync(join(outside, 'secret.cast'), 'OUTSIDE-SECRET-CONTENT\n');
  symlinkSync(join(outside, 'secret.cast'), join(dir, `20230101T000000Z-${'d'.repeat(32)}.cast`));
}

void describe('recordings API', () => {
  void it('lists real and planted recordings newest first with header fields, serves exact bytes, audits with the subject', async (t) => {
    const base = tempDir(t, 'uwsb-recapi-');
    const dir = join(base, 'casts');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    const tokens = tokenFile(base);
    const setup = await setupFake(t, ['--record-dir', dir, '--auth-tokens', tokens.file, ...NO_RATE]);
    const { bridge } = setup;
    plantFiles(dir, outside);
    const sessionId = await recordSession(setup, tokens.plain, 'recorded-marker-4711');
    await waitForLog(bridge, (l) => l['event'] === 'recording_finished');

    const res = await raw(bridge.url, '/api/recordings', { headers: bearer(tokens.admin) });
    assert.equal(res.status, 200, res.body.toString());
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin');
    const listing = res.json() as { recordings: Array<Record<string, unknown>>; truncated: boolean };
    assert.equal(listing.truncated, false);
    const names = listing.recordings.map((r) => r['name']);
    const realName = names[0] as string;
    assert.match(realName, new RegExp(`^\\d{8}T\\d{6}Z-${sessionId}\\.cast$`));
    assert.deepEqual(names, [realName, OLD_NAME, BROKEN_NAME], 'newest first; no symlink, directory or other file');

    const [real, old, broken] = listing.recordings;
    const realBytes = readFileSync(join(dir, realName));
    assert.deepEqual({ ...real, mtime: undefined, duration: undefined, timestamp: undefined }, {
      name: realName, node: null, size: realBytes.length, mtime: undefined, duration: undefined, timestamp: undefined,
      width: 100, height: 30, title: `${setup.ssh.username}@127.0.0.1:${setup.ssh.port}`,
      username: setup.ssh.username, target: `127.0.0.1:${setup.ssh.port}`, sessionId, clientIp: '127.0.0.1', authMethod: 'token', subject: 'dev',
      live: false,
    });
    assert.equal(typeof real?.['duration'], 'number');
    assert.ok(Math.abs(Number(real?.['timestamp']) - Date.now() / 1000) < 120, 'start time from the header');
    assert.ok(!Number.isNaN(Date.parse(String(real?.['mtime']))));
    assert.deepEqual([old?.['username'], old?.['target'], old?.['timestamp'], old?.['duration'], old?.['subject'], old?.['authMethod']], ['root', 'old.example:22', 1609556645, 2.25, 'ci', null]);
    assert.deepEqual([broken?.['size'], broken?.['width'], broken?.['title'], broken?.['duration']], [BROKEN_CONTENT.length, null, null, null], 'a broken header is listed with its fields missing');

    // Paging: limit and before.
    const page1 = (await raw(bridge.url, '/api/recordings?limit=1', { headers: bearer(tokens.admin) })).json();
    assert.deepEqual([(page1['recordings'] as unknown[]).length, page1['truncated']], [1, true]);
    const page2 = (await raw(bridge.url, `/api/recordings?limit=5&before=${realName}`, { headers: bearer(tokens.admin) })).json();
    assert.deepEqual((page2['recordings'] as Array<{ name: string }>).map((r) => r.name), [OLD_NAME, BROKEN_NAME]);

    // The file: exactly its bytes, as an asciicast download; HEAD has the length without a body.
    const file = await raw(bridge.url, `/api/recordings/${realName}`, { headers: bearer(tokens.admin) });
    assert.equal(file.status, 200);
    assert.ok(file.body.equals(realBytes), 'the bytes of the file');
    assert.ok(file.body.toString().includes('recorded-marker-4711'));
    assert.equal(file.headers['content-type'], 'application/x-asciicast');
    assert.equal(file.headers['content-disposition'], `attachment; filename="${realName}"`);
    assert.equal(file.headers['content-length'], String(realBytes.length));
    const head = await raw(bridge.url, `/api/recordings/${OLD_NAME}`, { headers: bearer(tokens.admin), method: 'HEAD' });
    assert.deepEqual([head.status, head.headers['content-length'], head.body.length], [200, String(readFileSync(join(dir, OLD_NAME)).length), 0]);
    const post = await raw(bridge.url, '/api/recordings', { headers: bearer(tokens.admin), method: 'POST' });
    assert.deepEqual([post.status, post.headers['allow']], [405, 'GET, HEAD']);

    const listed = bridge.logs().filter((l) => l['event'] === 'recording_listed');
    assert.ok(listed.length >= 3);
    assert.deepEqual([listed[0]?.['subject'], listed[0]?.['auth_method'], listed[0]?.['count']], ['ops', 'token', 3]);
    const fetched = bridge.logs().filter((l) => l['event'] === 'recording_fetched');
    assert.deepEqual(fetched.map((l) => [l['subject'], l['name'], l['head']]), [['ops', realName, false], ['ops', OLD_NAME, true]]);
  });

  void it('refuses traversal in every form without reading outside the directory', async (t) => {
    const base = tempDir(t, 'uwsb-recapi-');
    const dir = join(base, 'casts');
    const outside = join(base, 'outside');
    mkdirSync(outside);
    const tokens = tokenFile(base);
    const { bridge } = await setupFake(t, ['--record-dir', dir, '--auth-tokens', tokens.file, ...NO_RATE]);
    plantFiles(dir, outside);
    // A file with a valid recording name one level up: no request may reach it.
    writeFileSync(join(base, OLD_NAME), 'PARENT-SECRET-CONTENT\n');
    const auth = { headers: bearer(tokens.admin) };

    const badName: string[] = [
      '/api/recordings/..%2F..%2Fetc%2Fpasswd',
      `/api/recordings/..%2f${OLD_NAME}`,
      `/api/recordings/%2e%2e%2f${OLD_NAME}`,
      `/api/recordings/${OLD_NAME}%00`,
      `/api/recordings/${OLD_NAME}%00.txt`,
      `/api/recordings/${OLD_NAME.replace('.cast', '.txt')}`,
      '/api/recordings/notes.txt',
      `/api/recordings/sub/${OLD_NAME}`,
      `/api/recordings/${OLD_NAME}/`,
      `/api/recordings/${encodeURIComponent(OLD_NAME)}x`,
      '/api/recordings/%2Fetc%2Fpasswd',
    ];
    for (const path of badName) {
      const r = await raw(bridge.url, path, auth);
      assert.deepEqual([r.status, r.json()['code']], [400, 'BAD_RECORDING_NAME'], path);
    }
    // Dot segments are resolved by URL parsing before any route: such a request is another path.
    for (const path of ['/api/recordings/../../etc/passwd', `/api/recordings/../../${OLD_NAME}`, '/api/recordings/%2e%2e/%2e%2e/etc/passwd', `/api/recordings/%2e%2e/${OLD_NAME}`]) {
      const r = await raw(bridge.url, path, auth);
      assert.deepEqual([r.status, r.json()['code']], [404, 'NOT_FOUND'], path);
    }
    // Right shape, but a symlink (pointing outside), a directory, or nothing: not found.
    for (const name of [`20230101T000000Z-${'d'.repeat(32)}.cast`, `20220101T000000Z-${'c'.repeat(32)}.cast`, `20240101T000000Z-${'e'.repeat(32)}.cast`]) {
      const r = await raw(bridge.url, `/api/recordings/${name}`, auth);
      assert.deepEqual([r.status, r.json()['code']], [404, 'RECORDING_NOT_FOUND'], name);
    }
    // And ?before= is a name too.
    const before = await raw(bridge.url, '/api/recordings?before=../x', auth);
    assert.deepEqual([before.status, before.json()['code']], [400, 'BAD_RECORDING_NAME']);
    const limit = await raw(bridge.url, '/api/recordings?limit=0', auth);
    assert.deepEqual([limit.status, limit.json()['code']], [400, 'BAD_REQUEST']);
    assert.ok(!bridge.logText().includes('SECRET-CONTENT'));
  });

  void it('no credential 401 with WWW-Authenticate, a plain token 403, a cross-site request 403; wrong tokens count towards the ban', async (t) => {
    const base = tempDir(t, 'uwsb-recapi-');
    const tokens = tokenFile(base);
    const { bridge } = await setupFake(t, ['--record-dir', join(base, 'casts'), '--auth-tokens', tokens.file, '--auth-ban-failures', '3', ...NO_RATE]);

    const none = await raw(bridge.url, '/api/recordings');
    assert.deepEqual([none.status, none.json()['code'], none.headers['www-authenticate']], [401, 'BRIDGE_AUTH_REQUIRED', 'Bearer realm="webssh-bridge"']);
    const plain = await raw(bridge.url, '/api/recordings', { headers: bearer(tokens.plain) });
    assert.deepEqual([plain.status, plain.json()], [403, { code: 'ADMIN_REQUIRED', message: 'an operator (admin) identity is required: dev is not an operator' }]);
    const plainFile = await raw(bridge.url, `/api/recordings/${OLD_NAME}`, { headers: bearer(tokens.plain) });
    assert.deepEqual([plainFile.status, plainFile.json()['code']], [403, 'ADMIN_REQUIRED'], 'the file route checks too, before the name');
    const cross = await raw(bridge.url, '/api/recordings', { headers: { ...bearer(tokens.admin), 'Sec-Fetch-Site': 'cross-site' } });
    assert.deepEqual([cross.status, cross.json()['code']], [403, 'CSRF_REJECTED']);
    const typed = await raw(bridge.url, '/api/recordings', { headers: { ...bearer(tokens.admin), 'Sec-Fetch-Site': 'none' } });
    assert.equal(typed.status, 200, 'an address typed into the browser is fine');
    const ticket = await raw(bridge.url, '/api/recordings?ticket=abc');
    assert.equal(ticket.status, 401, 'a ticket is no credential here');

    const refused = bridge.logs().filter((l) => l['event'] === 'recording_access_refused');
    assert.ok(refused.some((l) => l['code'] === 'ADMIN_REQUIRED' && l['subject'] === 'dev'));

    for (let i = 0; i < 3; i++) {
      const wrong = await raw(bridge.url, '/api/recordings', { headers: bearer(registerSecret(newToken().token)) });
      assert.deepEqual([wrong.status, wrong.json()['code']], [401, 'BRIDGE_AUTH_INVALID']);
    }
    const banned = await raw(bridge.url, '/api/recordings', { headers: bearer(tokens.admin) });
    assert.equal(banned.status, 429);
    assert.equal(banned.json()['code'], 'AUTH_BANNED');
    assert.ok(Number(banned.headers['retry-after']) > 0);
  });

  void it('without --record-dir the routes are 404; without gateway auth they refuse; config.json tells the page', async (t) => {
    const base = tempDir(t, 'uwsb-recapi-');
    const tokens = tokenFile(base);
    const noRecord = await setupFake(t, ['--auth-tokens', tokens.file]);
    for (const path of ['/api/recordings', `/api/recordings/${OLD_NAME}`]) {
      const r = await raw(noRecord.bridge.url, path, { headers: bearer(tokens.admin) });
      assert.deepEqual([r.status, r.json()['code']], [404, 'NOT_FOUND'], path);
    }
    const cfgOff = (await raw(noRecord.bridge.url, '/config.json')).json();
    assert.equal(cfgOff['recordings'], false);

    const noAuthDir = join(base, 'open-casts');
    const open = await setupFake(t, ['--record-dir', noAuthDir]);
    await recordSession(open, null, 'anonymous-session');
    await waitForLog(open.bridge, (l) => l['event'] === 'recording_finished');
    for (const path of ['/api/recordings', `/api/recordings/${OLD_NAME}`]) {
      const r = await raw(open.bridge.url, path);
      assert.deepEqual([r.status, r.json()['code']], [403, 'RECORDINGS_NEED_AUTH'], path);
    }
    assert.equal((await raw(open.bridge.url, '/config.json')).json()['recordings'], false);

    const both = await setupFake(t, ['--record-dir', join(base, 'casts'), '--auth-tokens', tokens.file, '--base-path', '/ssh']);
    assert.equal((await raw(both.bridge.url, '/ssh/config.json')).json()['recordings'], true);
    const under = await raw(both.bridge.url, '/ssh/api/recordings', { headers: bearer(tokens.admin) });
    assert.deepEqual([under.status, under.json()], [200, { recordings: [], truncated: false }], 'under the base path');
  });

  void it('JWT: webssh_admin true is an operator, absent is not, a non-boolean is an invalid token', async (t) => {
    const base = tempDir(t, 'uwsb-recapi-');
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pem = join(base, 'jwt.pem');
    writeFileSync(pem, publicKey.export({ type: 'spki', format: 'pem' }));
    const jwt = async (claims: Record<string, unknown>): Promise<string> => registerSecret(
      await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(privateKey),
    );
    const { bridge } = await setupFake(t, ['--record-dir', join(base, 'casts'), '--auth-jwt-public-key', pem, '--auth-jwt-issuer', ISS, '--auth-jwt-audience', AUD, ...NO_RATE]);

    const admin = await raw(bridge.url, '/api/recordings', { headers: bearer(await jwt({ sub: 'carol@idp', webssh_admin: true })) });
    assert.equal(admin.status, 200);
    const notAdmin = await raw(bridge.url, '/api/recordings', { headers: bearer(await jwt({ sub: 'dave@idp', webssh_admin: false })) });
    assert.deepEqual([notAdmin.status, notAdmin.json()['code']], [403, 'ADMIN_REQUIRED']);
    const absent = await raw(bridge.url, '/api/recordings', { headers: bearer(await jwt({ sub: 'erin@idp' })) });
    assert.deepEqual([absent.status, absent.json()['code']], [403, 'ADMIN_REQUIRED']);
    for (const value of ['true', 1, null]) {
      const bad = await raw(bridge.url, '/api/recordings', { headers: bearer(await jwt({ sub: 'mallory@idp', webssh_admin: value })) });
      assert.deepEqual([bad.status, bad.json()], [401, { code: 'BRIDGE_AUTH_INVALID', message: 'gateway credential rejected: claim webssh_admin must be true or false' }], JSON.stringify(value));
    }
    assert.equal(bridge.logs().find((l) => l['event'] === 'recording_listed')?.['subject'], 'carol@idp');
  });

  void it('--admin-subjects makes trusted proxy users operators by exact name or glob', async (t) => {
    const base = tempDir(t, 'uwsb-recapi-');
    const { bridge } = await setupFake(t, ['--record-dir', join(base, 'casts'), '--auth-proxy-header', 'X-Forwarded-User', '--trusted-proxies', '127.0.0.1', '--admin-subjects', 'carol,ops-*', ...NO_RATE]);
    for (const [user, status] of [['carol', 200], ['ops-dave', 200], ['Carol', 403], ['erin', 403], ['dev-ops-x', 403]] as const) {
      const r = await raw(bridge.url, '/api/recordings', { headers: { 'X-Forwarded-User': user } });
      assert.equal(r.status, status, user);
    }
    const listed = bridge.logs().filter((l) => l['event'] === 'recording_listed').map((l) => [l['auth_method'], l['subject']]);
    assert.deepEqual(listed, [['proxy', 'carol'], ['proxy', 'ops-dave']]);
  });
});
