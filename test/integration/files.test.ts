/**
 * Files over the session's own SSH connection (docs/protocol.md#files), against a real OpenSSH
 * sshd and its SFTP server: listing, streamed upload and download (sha256 equal), names,
 * mkdir/rename/delete, nothing half-written (aborted and too-large uploads, a dropped session),
 * existing names, permissions, the token checks, a server without SFTP, and the shell staying
 * live during a transfer. Behaviour only, no timing assertions.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TEST_PROMPT } from '../helpers/sshd.js';
import { useSshdBridge } from '../helpers/sshd-bridge.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import { call, filesToken, q } from '../helpers/files-client.js';
import { startBridge } from '../helpers/bridge.js';
import { setupFake } from '../helpers/fake-session.js';
import { FAKE_PROMPT } from '../helpers/ssh-server.js';
import { registerSecret } from '../helpers/secrets.js';
import { until } from '../helpers/until.js';
import { openersOf } from '../helpers/openers.js';

const V1 = 'webssh-bridge.v1';
const HOME = '/home/uwsbtest';
const MAX_UPLOAD = 8 * 1024 * 1024;
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The temporary files of uploads left in `dir` (as root, beside the SFTP server). */
const temps = (dir: string): string[] => readdirSync(dir).filter((n) => /^\.uwsb-[0-9a-f]{16}\.part$/.test(n));

void describe('files over the session (real sshd, sftp)', () => {
  const fx = useSshdBridge(['--host-key-policy', 'accept-new-insecure', '--rate-burst', '10000', '--files-max-upload', String(MAX_UPLOAD)]);
  const base = (): string => fx.bridge?.url ?? '';

  async function login(url = fx.url): Promise<TestWs> {
    const ws = await openWs(url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: fx.sshd?.username, password: fx.sshd?.password });
    await ws.waitForControl(isType('ready'), 15_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    return ws;
  }

  /** A session, its token and a fresh directory in the test user's home (removed after). */
  async function rig(t: TestContext): Promise<{ ws: TestWs; token: string; dir: string }> {
    const ws = await login();
    t.after(() => ws.close());
    const token = await filesToken(ws);
    const dir = `uwsb-files-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(join(HOME, dir), { recursive: true, force: true }));
    const made = await call(base(), 'POST', `api/files/mkdir?${q({ path: dir })}`, { token });
    assert.equal(made.status, 201, made.body.toString());
    return { ws, token, dir };
  }

  const upload = (token: string, path: string, body: Buffer, extra: Record<string, string> = {}) =>
    call(base(), 'PUT', `api/files/upload?${q({ path, ...extra })}`, { token, body });

  async function download(token: string, path: string): Promise<{ status: number; body: Buffer; disposition: string | undefined; url: string }> {
    const link = await call(base(), 'POST', `api/files/download-link?${q({ path })}`, { token });
    assert.equal(link.status, 200, link.body.toString());
    const url = String(link.json?.['url']);
    registerSecret(url.slice(url.indexOf('t=') + 2));
    const got = await call(base(), 'GET', url.slice(1));
    return { status: got.status, body: got.body, disposition: got.headers['content-disposition'], url };
  }

  void it('lists the home directory, sorted, with type, size, mtime and mode', async (t) => {
    if (!fx.ready(t)) return;
    const { token } = await rig(t);
    const got = await call(base(), 'GET', `api/files/list?${q({ path: '.' })}`, { token });
    assert.equal(got.status, 200, got.body.toString());
    assert.equal(got.json?.['path'], HOME);
    const entries = got.json?.['entries'] as Array<{ name: string; type: string; size: number; mtime: number; mode: number }>;
    const names = entries.map((e) => e.name);
    assert.deepEqual(names, [...names].sort());
    const bashrc = entries.find((e) => e.name === '.bashrc');
    assert.ok(bashrc !== undefined, names.join(','));
    assert.equal(bashrc.type, 'file');
    assert.ok(bashrc.size > 0 && bashrc.mtime > 0 && (bashrc.mode & 0o777) !== 0);
    const st = await call(base(), 'GET', `api/files/stat?${q({ path: '.bashrc' })}`, { token });
    assert.equal(st.status, 200);
    assert.equal(st.json?.['size'], bashrc.size);
  });

  void it('uploads then downloads a 3 MiB random file (sha256 equal); the link works once; audited without the token', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const up = await upload(token, `${dir}/rand.bin`, data);
    assert.equal(up.status, 201, up.body.toString());
    assert.equal(up.json?.['sha256'], sha(data));
    assert.equal(up.json?.['bytes'], data.length);
    assert.equal(sha(readFileSync(join(HOME, dir, 'rand.bin'))), sha(data));
    const down = await download(token, `${dir}/rand.bin`);
    assert.equal(down.status, 200);
    assert.equal(sha(down.body), sha(data));
    assert.equal(down.disposition, 'attachment; filename="rand.bin"');
    const again = await call(base(), 'GET', down.url.slice(1));
    assert.equal(again.status, 401);
    assert.equal(again.json?.['code'], 'FILES_TOKEN_INVALID');
    // A download is audited once the bridge's side has ended (its SFTP handle closed), which may follow the client's last byte.
    const audited = (): Array<Record<string, unknown>> => (fx.bridge?.logs() ?? []).filter((l) => l['event'] === 'file_transfer' && String(l['path']).startsWith(dir));
    await until(() => audited().length === 2, 'the upload and the download are audited');
    const audit = audited();
    assert.deepEqual(audit.map((l) => [l['direction'], l['result'], l['bytes'], l['sha256']]), [['upload', 'ok', data.length, sha(data)], ['download', 'ok', data.length, sha(data)]]);
    assert.equal(audit[0]?.['username'], 'uwsbtest');
    assert.ok(!(fx.bridge?.logText() ?? '').includes(token), 'the token is never logged');
    assert.deepEqual(temps(join(HOME, dir)), []);
  });

  void it('a 0-byte file, and Unicode and spaces in names', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    assert.equal((await upload(token, `${dir}/empty`, Buffer.alloc(0))).status, 201);
    const empty = await download(token, `${dir}/empty`);
    assert.equal(empty.status, 200);
    assert.equal(empty.body.length, 0);
    const name = 'héllo wörld ✓ "q".txt';
    const body = Buffer.from('unicode body\n');
    assert.equal((await upload(token, `${dir}/${name}`, body)).status, 201);
    const list = await call(base(), 'GET', `api/files/list?${q({ path: dir })}`, { token });
    assert.deepEqual((list.json?.['entries'] as Array<{ name: string }>).map((e) => e.name), ['empty', name]);
    const got = await download(token, `${dir}/${name}`);
    assert.equal(got.body.toString(), body.toString());
    assert.equal(got.disposition, `attachment; filename="h_llo w_rld _ \\"q\\".txt"; filename*=UTF-8''h%C3%A9llo%20w%C3%B6rld%20%E2%9C%93%20%22q%22.txt`);
  });

  void it('mkdir, rename and delete; an existing name is refused unless overwrite', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    assert.equal((await call(base(), 'POST', `api/files/mkdir?${q({ path: `${dir}/sub` })}`, { token })).status, 201);
    const twice = await call(base(), 'POST', `api/files/mkdir?${q({ path: `${dir}/sub` })}`, { token });
    assert.deepEqual([twice.status, twice.json?.['code']], [409, 'FILES_EXISTS']);
    assert.equal((await upload(token, `${dir}/sub/a.txt`, Buffer.from('one'))).status, 201);
    const exists = await upload(token, `${dir}/sub/a.txt`, Buffer.from('two'));
    assert.deepEqual([exists.status, exists.json?.['code']], [409, 'FILES_EXISTS']);
    assert.equal(readFileSync(join(HOME, dir, 'sub/a.txt'), 'utf8'), 'one');
    assert.equal((await upload(token, `${dir}/sub/a.txt`, Buffer.from('two'), { overwrite: '1' })).status, 201);
    assert.equal(readFileSync(join(HOME, dir, 'sub/a.txt'), 'utf8'), 'two');
    assert.equal((await upload(token, `${dir}/b.txt`, Buffer.from('b'))).status, 201);
    const clash = await call(base(), 'POST', `api/files/rename?${q({ from: `${dir}/b.txt`, to: `${dir}/sub/a.txt` })}`, { token });
    assert.deepEqual([clash.status, clash.json?.['code']], [409, 'FILES_EXISTS']);
    const moved = await call(base(), 'POST', `api/files/rename?${q({ from: `${dir}/sub/a.txt`, to: `${dir}/c.txt` })}`, { token });
    assert.equal(moved.status, 200, moved.body.toString());
    assert.ok(existsSync(join(HOME, dir, 'c.txt')) && !existsSync(join(HOME, dir, 'sub/a.txt')));
    const notEmpty = await call(base(), 'POST', `api/files/delete?${q({ path: dir })}`, { token });
    assert.ok(notEmpty.status >= 400 && existsSync(join(HOME, dir)), 'a directory that is not empty stays');
    for (const p of ['c.txt', 'b.txt', 'sub']) assert.equal((await call(base(), 'POST', `api/files/delete?${q({ path: `${dir}/${p}` })}`, { token })).status, 200, p);
    assert.deepEqual(readdirSync(join(HOME, dir)), []);
    const gone = await call(base(), 'POST', `api/files/delete?${q({ path: `${dir}/sub` })}`, { token });
    assert.deepEqual([gone.status, gone.json?.['code']], [404, 'FILES_NOT_FOUND']);
  });

  void it('malformed paths are refused with their codes', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    const codes = async (path: string): Promise<unknown> => (await call(base(), 'GET', `api/files/stat?${q({ path })}`, { token })).json?.['code'];
    assert.equal(await codes(''), 'FILES_BAD_PATH');
    assert.equal(await codes(`${dir}/a\0b`), 'FILES_BAD_PATH');
    assert.equal(await codes(`${dir}/${'n'.repeat(256)}`), 'FILES_NAME_TOO_LONG');
    assert.equal(await codes(`${dir}/${'d/'.repeat(2100)}x`), 'FILES_NAME_TOO_LONG');
    const noName = await call(base(), 'PUT', `api/files/upload?${q({ path: `${dir}/..` })}`, { token, body: Buffer.from('x') });
    assert.equal(noName.json?.['code'], 'FILES_BAD_PATH');
  });

  void it('permission denied in a 0555 directory; nothing is left behind', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    assert.equal((await call(base(), 'POST', `api/files/mkdir?${q({ path: `${dir}/ro` })}`, { token })).status, 201);
    chmodSync(join(HOME, dir, 'ro'), 0o555);
    const denied = await upload(token, `${dir}/ro/x.bin`, randomBytes(1000));
    assert.deepEqual([denied.status, denied.json?.['code']], [403, 'FILES_PERMISSION_DENIED']);
    assert.deepEqual(readdirSync(join(HOME, dir, 'ro')), []);
  });

  void it('an upload the client cuts mid-body leaves no file and no temporary file', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    const req = request(`${base()}/api/files/upload?${q({ path: `${dir}/cut.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token, 'Content-Length': String(4 * 1024 * 1024) } });
    req.on('error', () => undefined);
    req.write(randomBytes(512 * 1024));
    await until(() => temps(join(HOME, dir)).length === 1, 'the temporary file exists');
    req.destroy();
    await until(() => temps(join(HOME, dir)).length === 0, 'the temporary file is removed');
    assert.ok(!existsSync(join(HOME, dir, 'cut.bin')));
    await until(() => (fx.bridge?.logs() ?? []).some((l) => l['event'] === 'file_transfer' && l['path'] === `${dir}/cut.bin` && l['result'] === 'FILES_INCOMPLETE'), 'the cut upload is audited');
  });

  void it('a body over the limit is refused and removed (announced, or streamed without a length)', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    const announced = await call(base(), 'PUT', `api/files/upload?${q({ path: `${dir}/big.bin` })}`, { token, headers: { 'Content-Length': String(MAX_UPLOAD + 1) } });
    assert.deepEqual([announced.status, announced.json?.['code']], [413, 'FILES_TOO_LARGE']);
    // Chunked: the bridge finds out while the body streams.
    const status = await new Promise<number>((resolve) => {
      const req = request(`${base()}/api/files/upload?${q({ path: `${dir}/big.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1)); // the bridge may close before the client has written everything
      const chunk = randomBytes(256 * 1024);
      let sent = 0;
      const pump = (): void => {
        while (sent <= MAX_UPLOAD + chunk.length) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    assert.ok(status === 413 || status === -1, `status ${status}`);
    await until(() => (fx.bridge?.logs() ?? []).some((l) => l['event'] === 'file_transfer' && l['path'] === `${dir}/big.bin` && l['result'] === 'FILES_TOO_LARGE'), 'refused as too large');
    await until(() => temps(join(HOME, dir)).length === 0, 'the temporary file is removed');
    assert.ok(!existsSync(join(HOME, dir, 'big.bin')));
  });

  void it('a session that ends mid-upload removes the temporary file', async (t) => {
    if (!fx.ready(t)) return;
    const { ws, token, dir } = await rig(t);
    const req = request(`${base()}/api/files/upload?${q({ path: `${dir}/dropped.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token, 'Content-Length': String(4 * 1024 * 1024) } });
    req.on('error', () => undefined);
    req.write(randomBytes(256 * 1024));
    await until(() => temps(join(HOME, dir)).length === 1, 'the temporary file exists');
    ws.close();
    await ws.closed;
    await until(() => temps(join(HOME, dir)).length === 0, 'the temporary file is removed');
    req.destroy();
    assert.ok(!existsSync(join(HOME, dir, 'dropped.bin')));
  });

  void it('the shell keeps echoing while an upload is under way', async (t) => {
    if (!fx.ready(t)) return;
    const { ws, token, dir } = await rig(t);
    const req = request(`${base()}/api/files/upload?${q({ path: `${dir}/slow.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token, 'Content-Length': String(1024 * 1024) } });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    const data = randomBytes(1024 * 1024);
    req.write(data.subarray(0, 512 * 1024));
    await until(() => temps(join(HOME, dir)).length === 1, 'the upload is under way');
    ws.sendBinary(Buffer.from('echo "mid-""transfer-$((20+22))"\r'));
    await ws.waitForOutput('mid-transfer-42', 15_000);
    req.end(data.subarray(512 * 1024));
    assert.equal(await answered, 201);
    assert.equal(sha(readFileSync(join(HOME, dir, 'slow.bin'))), sha(data));
  });

  void it('token checks: none, forged, another worker, an ended session; a viewer and a seed client get none', async (t) => {
    if (!fx.ready(t)) return;
    const { ws, token } = await rig(t);
    const list = (tok?: string) => call(base(), 'GET', `api/files/list?${q({ path: '.' })}`, { token: tok });
    const none = await list();
    assert.deepEqual([none.status, none.json?.['code']], [401, 'FILES_TOKEN_INVALID']);
    const forged = await list(`${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`);
    assert.deepEqual([forged.status, forged.json?.['code']], [401, 'FILES_TOKEN_INVALID']);
    const elsewhere = await list(token.replace(/^0\./, '7.'));
    assert.deepEqual([elsewhere.status, elsewhere.json?.['code']], [421, 'FILES_WRONG_WORKER']);
    const noLink = await call(base(), 'GET', `api/files/download?t=${encodeURIComponent(token)}`);
    assert.deepEqual([noLink.status, noLink.json?.['code']], [401, 'FILES_TOKEN_INVALID'], 'a file token is not a download link');
    const crossSite = await call(base(), 'GET', `api/files/list?${q({ path: '.' })}`, { token, headers: { 'Sec-Fetch-Site': 'cross-site' } });
    assert.deepEqual([crossSite.status, crossSite.json?.['code']], [403, 'CSRF_REJECTED']);

    // A viewer of the shared session: its `files` gets no token.
    ws.sendJson({ type: 'share' });
    const shared = await ws.waitForControl(isType('shared')) as { token: string };
    registerSecret(shared.token);
    const viewer = await openWs(`${fx.url}?share=${shared.token}`, { protocol: V1 });
    await viewer.waitForControl(isType('viewing'));
    viewer.sendJson({ type: 'files' });
    viewer.sendJson({ type: 'ping', payload: 'after-files' });
    await viewer.waitForControl(isType('pong'));
    assert.ok(!viewer.controls().some(isType('files-token')), 'answered in order: no token before the pong');
    viewer.close();

    // A seed-protocol session: the message is typed into the shell, no token comes back.
    const seed = await openWs(fx.url);
    seed.sendJson({ username: fx.sshd?.username, password: fx.sshd?.password });
    await seed.waitForOutput(TEST_PROMPT, 15_000);
    seed.sendJson({ type: 'files' });
    seed.sendText('\x15echo seed-"still-here"\r');
    await seed.waitForOutput('seed-still-here', 15_000);
    assert.equal(seed.controls().length, 0);
    seed.close();

    ws.close();
    await ws.closed;
    const ended = await list(token);
    assert.deepEqual([ended.status, ended.json?.['code']], [401, 'FILES_TOKEN_INVALID']);
  });

  void it('an expired token (files-token-ttl) is refused', async (t) => {
    if (!fx.ready(t)) return;
    const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--files-token-ttl', '1ms']);
    t.after(() => bridge.close());
    const ws = await login(`${bridge.wsBase}/ws/127.0.0.1/${fx.sshd?.port ?? 0}`);
    t.after(() => ws.close());
    const token = await filesToken(ws);
    const got = await call(bridge.url, 'GET', `api/files/list?${q({ path: '.' })}`, { token });
    assert.deepEqual([got.status, got.json?.['code'], got.json?.['message']], [401, 'FILES_TOKEN_INVALID', 'file token invalid, expired, used, or its session ended: expired']);
  });

  /** A bridge of its own in front of the same sshd, with `flags`; a session on it, its token and a directory. */
  async function ownBridge(t: TestContext, flags: string[]): Promise<{ url: string; ws: TestWs; token: string; dir: string; logs: () => Array<Record<string, unknown>> }> {
    const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--rate-burst', '10000', ...flags]);
    t.after(() => bridge.close());
    const ws = await login(`${bridge.wsBase}/ws/127.0.0.1/${fx.sshd?.port ?? 0}`);
    t.after(() => ws.close());
    const token = await filesToken(ws);
    const dir = `uwsb-files-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(join(HOME, dir), { recursive: true, force: true }));
    assert.equal((await call(bridge.url, 'POST', `api/files/mkdir?${q({ path: dir })}`, { token })).status, 201);
    return { url: bridge.url, ws, token, dir, logs: () => bridge.logs() };
  }

  void it('an upload slower than ws-handshake-timeout completes while bytes flow; one that stalls past conn-timeout is cut and removed', async (t) => {
    if (!fx.ready(t)) return;
    // The request head must arrive within 1 s; the body may take as long as it keeps moving.
    const { url, token, dir, logs } = await ownBridge(t, ['--ws-handshake-timeout', '1s', '--conn-timeout', '1500ms']);
    const chunks = 12;
    const slow = new Promise<number>((resolve, reject) => {
      const req = request(`${url}/api/files/upload?${q({ path: `${dir}/slow.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token, 'Content-Length': String(chunks * 1024) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      let sent = 0;
      const tick = setInterval(() => {
        req.write(randomBytes(1024));
        if (++sent === chunks) {
          clearInterval(tick);
          req.end();
        }
      }, 250); // 12 chunks over about 3 s: three times the head's timeout, never idle for long
    });
    assert.equal(await slow, 201);
    assert.equal(statSync(join(HOME, dir, 'slow.bin')).size, chunks * 1024);
    // Stalled: half the body, then nothing.
    const stalled = request(`${url}/api/files/upload?${q({ path: `${dir}/stalled.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token, 'Content-Length': String(64 * 1024) } });
    const cut = new Promise<void>((resolve) => {
      stalled.on('error', () => resolve());
      stalled.on('close', () => resolve());
    });
    stalled.write(randomBytes(32 * 1024));
    await cut;
    await until(() => temps(join(HOME, dir)).length === 0, 'the temporary file is removed');
    assert.ok(!existsSync(join(HOME, dir, 'stalled.bin')));
    await until(() => logs().some((l) => l['event'] === 'file_transfer' && l['path'] === `${dir}/stalled.bin` && l['result'] === 'FILES_INCOMPLETE'), 'the stalled upload is audited');
  });

  void it('file requests spend no rate token (a page lists and uploads freely), but a banned address is refused', async (t) => {
    if (!fx.ready(t)) return;
    const { url, token, dir } = await ownBridge(t, ['--rate-burst', '2', '--rate-interval', '10m', '--auth-ban-failures', '1']);
    for (let i = 0; i < 12; i++) assert.equal((await call(url, 'GET', `api/files/list?${q({ path: dir })}`, { token })).status, 200, `request ${i}`);
    // One failed SSH login from the same address bans it (and spends the second token).
    const bad = await openWs(`${url.replace(/^http/, 'ws')}/ws/127.0.0.1/${fx.sshd?.port ?? 0}`, { protocol: V1 });
    bad.sendJson({ type: 'auth', username: fx.sshd?.username, password: 'wrong-password' });
    await bad.closed;
    const refused = await call(url, 'GET', `api/files/list?${q({ path: dir })}`, { token });
    assert.equal(refused.status, 429);
    assert.equal(refused.json?.['code'], 'AUTH_BANNED');
  });

  void it('a recorded session gets a marker per transfer; the metrics count transfers and bytes', async (t) => {
    if (!fx.ready(t)) return;
    const castDir = mkdtempSync(join(tmpdir(), 'uwsb-files-cast-'));
    t.after(() => rmSync(castDir, { recursive: true, force: true }));
    const own = await ownBridge(t, ['--record-dir', castDir, '--metrics-enabled']);
    const data = randomBytes(70_000);
    assert.equal((await call(own.url, 'PUT', `api/files/upload?${q({ path: `${own.dir}/m.bin` })}`, { token: own.token, body: data })).status, 201);
    const refused = await call(own.url, 'PUT', `api/files/upload?${q({ path: `${own.dir}/m.bin` })}`, { token: own.token, body: data });
    assert.equal(refused.status, 409);
    const metrics = (await call(own.url, 'GET', 'metrics')).body.toString();
    assert.match(metrics, /webssh_bridge_file_transfers_total\{direction="upload",result="ok"\} 1/);
    assert.match(metrics, /webssh_bridge_file_transfers_total\{direction="upload",result="FILES_EXISTS"\} 1/);
    assert.match(metrics, /webssh_bridge_file_bytes_total\{direction="upload",result="ok"\} 70000/);
    own.ws.close();
    await own.ws.closed;
    await until(() => own.logs().some((l) => l['event'] === 'recording_finished'), 'the recording is finished');
    const cast = readdirSync(castDir).filter((n) => n.endsWith('.cast'));
    assert.equal(cast.length, 1);
    const markers = readFileSync(join(castDir, cast[0] ?? ''), 'utf8').split('\n').slice(1).filter((l) => l !== '')
      .map((l) => JSON.parse(l) as [number, string, string]).filter((e) => e[1] === 'm').map((e) => e[2]);
    assert.deepEqual(markers, [
      `file upload ok: ${own.dir}/m.bin (70000 bytes, sha256 ${sha(data)})`,
      `file upload FILES_EXISTS: ${own.dir}/m.bin (0 bytes, sha256 ${sha(Buffer.alloc(0))})`,
    ]);
  });

  void it('files-max-transfers: one transfer more than the limit is FILES_BUSY; the slot comes back', async (t) => {
    if (!fx.ready(t)) return;
    const own = await ownBridge(t, ['--files-max-transfers', '1']);
    const req = request(`${own.url}/api/files/upload?${q({ path: `${own.dir}/one.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': own.token, 'Content-Length': '200000' } });
    const first = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.write(randomBytes(100_000));
    await until(() => temps(join(HOME, own.dir)).length === 1, 'the first upload is under way');
    const second = await call(own.url, 'PUT', `api/files/upload?${q({ path: `${own.dir}/two.bin` })}`, { token: own.token, body: Buffer.from('x') });
    assert.deepEqual([second.status, second.json?.['code']], [429, 'FILES_BUSY']);
    req.end(randomBytes(100_000));
    assert.equal(await first, 201);
    assert.equal((await call(own.url, 'PUT', `api/files/upload?${q({ path: `${own.dir}/two.bin` })}`, { token: own.token, body: Buffer.from('x') })).status, 201);
  });

  void it('a download the client cancels mid-body ends as FILES_INCOMPLETE, closes its SFTP handle and gives its slot back', async (t) => {
    if (!fx.ready(t)) return;
    const own = await ownBridge(t, ['--files-max-transfers', '1']);
    // Larger than every buffer between sshd and this client (socket buffers, the channel window), so the paused response keeps the file open.
    const data = randomBytes(48 * 1024 * 1024);
    assert.equal((await call(own.url, 'PUT', `api/files/upload?${q({ path: `${own.dir}/d.bin` })}`, { token: own.token, body: data })).status, 201);
    const link = async (): Promise<string> => {
      const got = await call(own.url, 'POST', `api/files/download-link?${q({ path: `${own.dir}/d.bin` })}`, { token: own.token });
      const url = String(got.json?.['url']);
      registerSecret(url.slice(url.indexOf('t=') + 2));
      return url;
    };
    const first = await link();
    const file = join(HOME, own.dir, 'd.bin');
    let openMidway: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = request(`${own.url}${first}`, (res) => {
        res.once('data', () => {
          res.pause();
          // sshd's SFTP server holds the file while it streams; the response waits on this client.
          until(() => (openMidway = openersOf(file)).length > 0, 'the file is open mid-download').finally(() => req.destroy()).catch(reject); // the user pressed cancel
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.on('close', resolve);
      req.once('error', reject);
      req.end();
    });
    await until(() => own.logs().some((l) => l['event'] === 'file_transfer' && l['direction'] === 'download' && l['result'] === 'FILES_INCOMPLETE'), 'the cancelled download is audited');
    assert.equal(openMidway.length, 1, 'one process (the sshd session serving SFTP) had the file open mid-download');
    await until(() => openersOf(file).length === 0, 'the SFTP handle is closed after the cancel (no process holds the file)');
    const again = await call(own.url, 'GET', (await link()).slice(1));
    assert.equal(again.status, 200, 'the slot came back (files-max-transfers 1)');
    assert.equal(sha(again.body), sha(data));
    const missing = await call(own.url, 'PUT', `api/files/upload?${q({ path: `${own.dir}/no/such/dir/x` })}`, { token: own.token, body: Buffer.from('x') });
    assert.deepEqual([missing.status, missing.json?.['code']], [404, 'FILES_NOT_FOUND']);
  });

  void it('64 MiB up and down, streamed: sha256 equal, and live buffer memory does not grow with the file', async (t) => {
    if (!fx.ready(t)) return;
    const own = await ownBridge(t, []);
    const SIZE = 64 * 1024 * 1024;
    const CHUNK = 64 * 1024;
    const seed = randomBytes(CHUNK);
    let peak = 0;
    // Live memory only: a full collection before each reading, so garbage not yet collected
    // (each chunk is copied a few times on its way: HTTP, the meter, ssh2's packets and cipher)
    // does not count, and what is left is what the transfer holds.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base0 = process.memoryUsage();
    let samples = 0;
    const sample = (): void => {
      if (++samples % 16 !== 0) return;
      gc();
      const m = process.memoryUsage();
      peak = Math.max(peak, m.arrayBuffers - base0.arrayBuffers);
    };
    // Upload from a generator (each chunk differs), hashing on the way; nothing is kept.
    const upHash = createHash('sha256');
    const up = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${own.url}/api/files/upload?${q({ path: `${own.dir}/big.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': own.token, 'Content-Length': String(SIZE) } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      let i = 0;
      const pump = (): void => {
        while (i < SIZE / CHUNK) {
          const chunk = Buffer.from(seed);
          chunk.writeUInt32BE(i++, 0);
          upHash.update(chunk);
          sample();
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    const upPeak = peak;
    peak = 0;
    assert.equal(up.status, 201, up.body);
    assert.equal((JSON.parse(up.body) as { sha256: string }).sha256, upHash.digest('hex'));
    const link = await call(own.url, 'POST', `api/files/download-link?${q({ path: `${own.dir}/big.bin` })}`, { token: own.token });
    const url = String(link.json?.['url']);
    registerSecret(url.slice(url.indexOf('t=') + 2));
    const downHash = createHash('sha256');
    let got = 0;
    await new Promise<void>((resolve, reject) => {
      request(`${own.url}${url}`, (res) => {
        res.on('data', (c: Buffer) => {
          got += c.length;
          downHash.update(c);
          sample();
        });
        res.on('end', resolve);
        res.on('error', reject);
      }).on('error', reject).end();
    });
    assert.equal(got, SIZE);
    assert.equal(downHash.digest('hex'), sha(readFileSync(join(HOME, own.dir, 'big.bin'))));
    t.diagnostic(`live buffer memory over base while ${SIZE / 1048576} MiB streamed (client, bridge and ssh2 in one process): upload peak ${(upPeak / 1024).toFixed(0)} KiB, download peak ${(peak / 1024).toFixed(0)} KiB`);
    // In one process the figure holds the client's and ssh2's buffers too (socket queues, packets,
    // cipher output) and swings by several MiB; the bound catches a transfer that keeps the file.
    for (const p of [upPeak, peak]) assert.ok(p < SIZE / 2, `live buffer memory grew ${p} bytes: a transfer must not buffer the file`);
  });

  void it('under workers: a file request that reaches another worker is relayed to the session\'s owner, body and answer streamed', async (t) => {
    if (!fx.ready(t)) return;
    const relayDir = mkdtempSync(join(tmpdir(), 'uwsb-files-relay-'));
    t.after(() => rmSync(relayDir, { recursive: true, force: true }));
    const flags = ['--host-key-policy', 'accept-new-insecure', '--rate-burst', '10000'];
    const owner = await startBridge(flags, { relay: { dir: relayDir, self: 1 } });
    t.after(() => owner.close());
    const other = await startBridge(flags, { relay: { dir: relayDir, self: 2 } });
    t.after(() => other.close());
    const ws = await login(`${owner.wsBase}/ws/127.0.0.1/${fx.sshd?.port ?? 0}`);
    t.after(() => ws.close());
    const token = await filesToken(ws);
    assert.match(token, /^1\./);
    const dir = `uwsb-files-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(join(HOME, dir), { recursive: true, force: true }));
    assert.equal((await call(other.url, 'POST', `api/files/mkdir?${q({ path: dir })}`, { token })).status, 201);
    const data = randomBytes(2 * 1024 * 1024 + 3);
    const up = await call(other.url, 'PUT', `api/files/upload?${q({ path: `${dir}/r.bin` })}`, { token, body: data });
    assert.deepEqual([up.status, up.json?.['sha256']], [201, sha(data)]);
    const list = await call(other.url, 'GET', `api/files/list?${q({ path: dir })}`, { token });
    assert.deepEqual((list.json?.['entries'] as Array<{ name: string; size: number }>).map((e) => [e.name, e.size]), [['r.bin', data.length]]);
    const link = await call(other.url, 'POST', `api/files/download-link?${q({ path: `${dir}/r.bin` })}`, { token });
    const url = String(link.json?.['url']);
    registerSecret(url.slice(url.indexOf('t=') + 2));
    const down = await call(other.url, 'GET', url.slice(1));
    assert.equal(down.status, 200);
    assert.equal(sha(down.body), sha(data));
    assert.equal(down.headers['content-disposition'], 'attachment; filename="r.bin"');
    const again = await call(other.url, 'GET', url.slice(1));
    assert.deepEqual([again.status, again.json?.['code']], [401, 'FILES_TOKEN_INVALID'], 'the owner burnt the link');
    const refused = await call(other.url, 'GET', `api/files/stat?${q({ path: `${dir}/nope` })}`, { token });
    assert.deepEqual([refused.status, refused.json?.['code']], [404, 'FILES_NOT_FOUND'], 'the owner\'s refusal comes back as it is');
    const dead = await call(other.url, 'GET', `api/files/list?${q({ path: '.' })}`, { token: token.replace(/^1\./, '7.') });
    assert.deepEqual([dead.status, dead.json?.['code']], [421, 'FILES_WRONG_WORKER'], 'no worker 7: refused where the client is');
    assert.ok(owner.logs().some((l) => l['event'] === 'file_transfer' && l['direction'] === 'upload' && l['result'] === 'ok'), 'the owner did the transfer');
    assert.ok(!other.logs().some((l) => l['event'] === 'file_transfer'));
    // A client that stops mid-upload on the relaying worker: the owner removes the temporary file.
    const req = request(`${other.url}/api/files/upload?${q({ path: `${dir}/cut.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token, 'Content-Length': String(4 * 1024 * 1024) } });
    req.on('error', () => undefined);
    req.write(randomBytes(512 * 1024));
    await until(() => temps(join(HOME, dir)).length === 1, 'the relayed upload is under way');
    req.destroy();
    await until(() => temps(join(HOME, dir)).length === 0, 'the temporary file is removed');
    assert.ok(!existsSync(join(HOME, dir, 'cut.bin')));
    const direct = await call(owner.url, 'GET', `api/files/list?${q({ path: dir })}`, { token });
    assert.equal(direct.status, 200);
  });

  void it('a token is bound to its session: another session ending leaves it working', async (t) => {
    if (!fx.ready(t)) return;
    const a = await rig(t);
    const b = await rig(t);
    // Each token names its own session: b's directory listing through a's token is a's session's view, not b's socket.
    const other = await call(base(), 'GET', `api/files/list?${q({ path: b.dir })}`, { token: a.token });
    assert.equal(other.status, 200, 'the same SSH user may see the directory: the user\'s permissions are the bound');
    b.ws.close();
    await b.ws.closed;
    const gone = await call(base(), 'GET', `api/files/list?${q({ path: '.' })}`, { token: b.token });
    assert.equal(gone.json?.['code'], 'FILES_TOKEN_INVALID', 'b ended: its token is dead, a\'s is not');
    assert.equal((await call(base(), 'GET', `api/files/list?${q({ path: '.' })}`, { token: a.token })).status, 200);
  });
});

void describe('files on a server without SFTP (in-process ssh2 server)', () => {
  void it('FILES_UNAVAILABLE, and the session goes on', async (t) => {
    const { ssh, bridge, url } = await setupFake(t);
    const ws = await openWs(url, { protocol: V1 });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
    await ws.waitForControl(isType('ready'));
    await ws.waitForOutput(FAKE_PROMPT);
    const token = await filesToken(ws);
    const got = await call(bridge.url, 'GET', `api/files/list?${q({ path: '.' })}`, { token });
    assert.deepEqual([got.status, got.json?.['code'], got.json?.['message']], [502, 'FILES_UNAVAILABLE', 'file transfer not available on this server']);
    ws.sendBinary(Buffer.from('echo after-files\r'));
    await ws.waitForOutput('after-files');
  });

  void it('files-enabled false: `files` is refused and the routes do not exist', async (t) => {
    const { ssh, bridge, url } = await setupFake(t, ['--files-enabled=false']);
    const ws = await openWs(url, { protocol: V1 });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
    await ws.waitForControl(isType('ready'));
    ws.sendJson({ type: 'files' });
    const refused = await ws.waitForControl(isType('files-refused')) as { code: string };
    assert.equal(refused.code, 'FILES_DISABLED');
    const got = await call(bridge.url, 'GET', `api/files/list?${q({ path: '.' })}`, { token: 'x' });
    assert.equal(got.status, 404);
  });
});
