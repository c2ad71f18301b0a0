/**
 * A full disk on a real OpenSSH sftp-server (docs/protocol.md#files): SFTP version 3 reports
 * ENOSPC as a plain failure, and the bridge tells it apart with statvfs@openssh.com
 * (src/ssh/sftp-space.ts). A 1 MiB tmpfs mounted in the test account's home is the full disk: a
 * 2 MiB upload into it (with a Content-Length or chunked) is 507 FILES_DISK_FULL, leaves neither
 * the file nor its temporary file, and the session goes on (the API lists, the shell echoes, a
 * small upload still fits).
 * Needs root to mount; under CI=true a missing mount fails, elsewhere it skips loudly.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { TEST_PROMPT, TEST_USER } from '../helpers/sshd.js';
import { useSshdBridge } from '../helpers/sshd-bridge.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import { call, filesToken, q } from '../helpers/files-client.js';
import { requireOrSkip } from '../helpers/require.js';

const V1 = 'webssh-bridge.v1';
const HOME = `/home/${TEST_USER}`;
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** The test account's uid and gid, as /etc/passwd gives them (the account exists once sshd started). */
function account(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${TEST_USER}:`));
  const f = line?.split(':') ?? [];
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

/**
 * A 1 MiB tmpfs, owned by the test account, on a fresh directory in its home; unmounted and
 * removed after the test whatever its end. Null (after failing under CI, skipping elsewhere) when
 * this process cannot mount.
 */
function fullDisk(t: TestContext): string | null {
  const hint = 'needs root and mount -t tmpfs (a privileged container)';
  if (!requireOrSkip(t, 'root, to mount a tmpfs', process.getuid?.() === 0, hint)) return null;
  const name = `uwsb-full-${randomBytes(4).toString('hex')}`;
  const dir = join(HOME, name);
  const { uid, gid } = account();
  mkdirSync(dir);
  chownSync(dir, uid, gid);
  let mounted = false;
  t.after(() => {
    if (mounted) {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' }); // still busy: detach it now, the kernel frees it when unused
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  let why = '';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=1m,mode=0755,uid=${uid},gid=${gid}`, 'tmpfs', dir], { stdio: 'pipe' });
    mounted = true;
  } catch (err) {
    why = String((err as { stderr?: Buffer }).stderr ?? err).trim();
  }
  if (!requireOrSkip(t, 'a 1 MiB tmpfs mount', mounted, `mount failed: ${why}; ${hint}`)) return null;
  return name;
}

/** The temporary files of uploads left in `dir`. */
const temps = (dir: string): string[] => readdirSync(dir).filter((n) => /^\.uwsb-[0-9a-f]{16}\.part$/.test(n));

void describe('files: a full disk on OpenSSH (real sshd, tmpfs)', () => {
  const fx = useSshdBridge(['--host-key-policy', 'accept-new-insecure', '--rate-burst', '10000']);
  const base = (): string => fx.bridge?.url ?? '';

  async function login(t: TestContext): Promise<TestWs> {
    const ws = await openWs(fx.url, { protocol: V1 });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: fx.sshd?.username, password: fx.sshd?.password });
    await ws.waitForControl(isType('ready'), 15_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    return ws;
  }

  void it('an upload larger than the free space is 507 FILES_DISK_FULL, leaves nothing, and the session goes on', async (t) => {
    if (!fx.ready(t)) return;
    const name = fullDisk(t);
    if (name === null) return;
    const dir = join(HOME, name);
    const ws = await login(t);
    const token = await filesToken(ws);

    const big = await call(base(), 'PUT', `api/files/upload?${q({ path: `${name}/big.bin` })}`, { token, body: randomBytes(2 * 1024 * 1024) });
    assert.equal(big.status, 507, big.body.toString());
    assert.equal(big.json?.['code'], 'FILES_DISK_FULL');
    assert.match(String(big.json?.['message']), /^no space left or quota exceeded on the server: write: \d+ bytes free on the server's filesystem$/);
    assert.deepEqual(readdirSync(dir), [], 'neither the file nor its temporary file is left');
    const audit = (fx.bridge?.logs() ?? []).filter((l) => l['event'] === 'file_transfer' && l['path'] === `${name}/big.bin`);
    assert.deepEqual(audit.map((l) => l['result']), ['FILES_DISK_FULL']);

    // Chunked (no Content-Length): what is still needed is unknown, the free space below one write decides.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base()}/api/files/upload?${q({ path: `${name}/chunked.bin` })}`, { method: 'PUT', headers: { 'X-Files-Token': token } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(randomBytes(2 * 1024 * 1024));
    });
    assert.equal(chunked.status, 507, chunked.body);
    assert.equal((JSON.parse(chunked.body) as { code: string }).code, 'FILES_DISK_FULL');
    assert.deepEqual(readdirSync(dir), []);

    const list = await call(base(), 'GET', `api/files/list?${q({ path: name })}`, { token });
    assert.equal(list.status, 200, list.body.toString());
    assert.deepEqual(list.json?.['entries'], []);
    ws.sendBinary(Buffer.from('echo "after-""full-$((40+2))"\r'));
    await ws.waitForOutput('after-full-42', 15_000);

    const small = randomBytes(100 * 1024);
    const fits = await call(base(), 'PUT', `api/files/upload?${q({ path: `${name}/small.bin` })}`, { token, body: small });
    assert.equal(fits.status, 201, fits.body.toString());
    assert.equal(fits.json?.['sha256'], sha(small));
    assert.equal(sha(readFileSync(join(dir, 'small.bin'))), sha(small));
    assert.deepEqual(temps(dir), []);
  });
});
