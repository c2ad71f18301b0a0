/**
 * A folder download (docs/protocol.md#files) against a real OpenSSH sshd: the directory streams
 * as a tar built while it streams; the system `tar` lists and extracts it, and the names, sizes,
 * sha256 and link targets equal the source's. A folder past the depth bound is cut. Behaviour
 * only, no timing assertions.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_PROMPT } from '../helpers/sshd.js';
import { useSshdBridge } from '../helpers/sshd-bridge.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import { call, filesToken, q, type FilesAnswer } from '../helpers/files-client.js';
import { registerSecret } from '../helpers/secrets.js';
import { until } from '../helpers/until.js';

const V1 = 'webssh-bridge.v1';
const HOME = '/home/uwsbtest';
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Every entry below `root`: relative path -> what it is (a file's size and sha256, a link's target). */
function tree(root: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(join(root, rel))) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(join(root, r));
    if (st.isSymbolicLink()) out.set(r, `link -> ${readlinkSync(join(root, r))}`);
    else if (st.isDirectory()) {
      out.set(r, 'dir');
      for (const [k, v] of tree(root, r)) out.set(k, v);
    } else if (st.isFile()) {
      const data = readFileSync(join(root, r));
      out.set(r, `file ${data.length} ${sha(data)}`);
    }
  }
  return out;
}

void describe('folder downloads as tar (real sshd, sftp)', () => {
  const fx = useSshdBridge(['--host-key-policy', 'accept-new-insecure', '--rate-burst', '10000']);
  const base = (): string => fx.bridge?.url ?? '';

  async function rig(t: TestContext): Promise<{ token: string; dir: string }> {
    const ws: TestWs = await openWs(fx.url, { protocol: V1 });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: fx.sshd?.username, password: fx.sshd?.password });
    await ws.waitForControl(isType('ready'), 15_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    const token = await filesToken(ws);
    const dir = `uwsb-tar-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(join(HOME, dir), { recursive: true, force: true }));
    return { token, dir };
  }

  async function download(token: string, path: string): Promise<FilesAnswer> {
    const link = await call(base(), 'POST', `api/files/download-link?${q({ path })}`, { token });
    assert.equal(link.status, 200, link.body.toString());
    const url = String(link.json?.['url']);
    registerSecret(url.slice(url.indexOf('t=') + 2));
    return call(base(), 'GET', url.slice(1));
  }

  void it('nested folders, a 0-byte file, Unicode and space names, a long name and a link: tar -tvf and tar -xf give back the source', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    const src = join(HOME, dir);
    const long = `${'l'.repeat(120)}/${'ñ'.repeat(70)} long name.bin`; // over 100 bytes: a PAX path
    mkdirSync(join(src, 'a/b/c'), { recursive: true, mode: 0o755 });
    mkdirSync(join(src, 'sp ace ✓'), { mode: 0o755 });
    mkdirSync(join(src, long.split('/')[0] ?? ''), { mode: 0o755 });
    writeFileSync(join(src, 'empty'), Buffer.alloc(0), { mode: 0o644 });
    writeFileSync(join(src, 'a/b/c/deep.bin'), randomBytes(300_000), { mode: 0o600 });
    writeFileSync(join(src, 'a/one.txt'), 'one\n', { mode: 0o644 });
    writeFileSync(join(src, 'sp ace ✓/héllo wörld.txt'), 'unicode\n', { mode: 0o644 });
    writeFileSync(join(src, long), randomBytes(1025), { mode: 0o644 });
    symlinkSync('a/one.txt', join(src, 'link'));
    spawnSync('chown', ['-R', 'uwsbtest:', src]);

    const got = await download(token, dir);
    assert.equal(got.status, 200, got.body.toString());
    assert.equal(got.headers['content-type'], 'application/x-tar');
    assert.equal(got.headers['content-disposition'], `attachment; filename="${dir}.tar"`);
    assert.equal(got.headers['content-length'], undefined);
    assert.equal(got.headers['transfer-encoding'], 'chunked');
    assert.equal(got.body.length % 512, 0);
    assert.deepEqual(got.body.subarray(-1024), Buffer.alloc(1024), 'two zero blocks at the end');

    const listed = spawnSync('tar', ['-tvf', '-'], { input: got.body });
    assert.equal(listed.status, 0, listed.stderr.toString());
    const listing = listed.stdout.toString('utf8');
    for (const name of [`${dir}/empty`, `${dir}/${long}`, `${dir}/sp ace ✓/héllo wörld.txt`, `${dir}/link -> a/one.txt`]) assert.ok(listing.includes(name), `${name} in\n${listing}`);

    const out = mkdtempSync(join(tmpdir(), 'uwsb-tar-x-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    const x = spawnSync('tar', ['-xf', '-', '-C', out], { input: got.body });
    assert.equal(x.status, 0, x.stderr.toString());
    assert.deepEqual(readdirSync(out), [dir]);
    const want = tree(src);
    assert.deepEqual(new Map([...tree(join(out, dir))].sort()), new Map([...want].sort()));
    assert.equal(want.get('empty'), `file 0 ${sha(Buffer.alloc(0))}`);
    assert.equal(lstatSync(join(out, dir, 'a/b/c/deep.bin')).mode & 0o777, 0o600);

    await until(() => (fx.bridge?.logs() ?? []).some((l) => l['event'] === 'file_transfer' && l['path'] === dir), 'the folder download is audited');
    const audit = (fx.bridge?.logs() ?? []).filter((l) => l['event'] === 'file_transfer' && l['path'] === dir);
    assert.deepEqual(audit.map((l) => [l['direction'], l['result'], l['bytes'], l['sha256']]), [['download', 'ok', got.body.length, sha(got.body)]]);
  });

  void it('a folder nested past the depth bound is cut mid-stream and audited FILES_TOO_MANY', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    mkdirSync(join(HOME, dir, ...Array.from({ length: 66 }, () => 'd')), { recursive: true, mode: 0o755 });
    spawnSync('chown', ['-R', 'uwsbtest:', join(HOME, dir)]);
    const got = await download(token, dir).then((a) => a.status, () => 'cut');
    assert.equal(got, 'cut', 'the chunked body never ends properly');
    await until(() => (fx.bridge?.logs() ?? []).some((l) => l['event'] === 'file_transfer' && l['path'] === dir), 'the cut download is audited');
    const audit = (fx.bridge?.logs() ?? []).filter((l) => l['event'] === 'file_transfer' && l['path'] === dir);
    assert.equal(audit[0]?.['result'], 'FILES_TOO_MANY');
  });

  void it('a socket or FIFO is neither a file nor a folder: FILES_BAD_PATH', async (t) => {
    if (!fx.ready(t)) return;
    const { token, dir } = await rig(t);
    mkdirSync(join(HOME, dir), { mode: 0o755 });
    assert.equal(spawnSync('mkfifo', [join(HOME, dir, 'pipe')]).status, 0);
    spawnSync('chown', ['-R', 'uwsbtest:', join(HOME, dir)]);
    const got = await download(token, `${dir}/pipe`);
    assert.deepEqual([got.status, got.json?.['code']], [400, 'FILES_BAD_PATH']);
  });
});
