/**
 * The transfers of the files row (bench/files.ts). A: OpenSSH's own `sftp` client in batch mode
 * (`-b`), key auth, to the same sshd as the same user. B: the bridge's file API
 * (docs/protocol.md#files) on a v1 session: `files` → `files-token`, `PUT api/files/upload`
 * with the file streamed as the body, `POST api/files/download-link` then `GET` the link, the
 * body streamed to disk. Every transfer is checked by sha256 of what arrived.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { connectBridge } from './bridge-client.js';
import { selfCpuSeconds, treeCpuSeconds, treeRssKiB } from './procfs.js';
import { withTimeout, type Target, type Term } from './term.js';
import { closeTerm, CONNECT_TIMEOUT_MS } from './workloads.js';

const TRANSFER_TIMEOUT_MS = 300_000;

/** sha256 of a local file, hex. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), h);
  return h.digest('hex');
}

export interface SftpSetup {
  /** Private key (its public half is in the sshd's AuthorizedKeysFile). */
  readonly key: string;
  /** A known_hosts file with the sshd's host key. */
  readonly knownHosts: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

/** Run `sftp -b -` with `commands`; resolves with its wall time in seconds, rejects on a non-zero exit. */
export function sftpBatch(s: SftpSetup, commands: string[]): Promise<number> {
  const args = [
    '-q', '-b', '-', '-P', String(s.port), '-i', s.key,
    '-o', 'IdentitiesOnly=yes', '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no',
    '-o', `UserKnownHostsFile=${s.knownHosts}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'GlobalKnownHostsFile=/dev/null',
    `${s.user}@${s.host}`,
  ];
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('/usr/bin/sftp', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), TRANSFER_TIMEOUT_MS);
    child.once('error', (e) => { clearTimeout(timer); reject(e); });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) resolve(s);
      else reject(new Error(`sftp exit ${code ?? sig}: ${err.trim()}`));
    });
    child.stdin.end(`${commands.join('\n')}\n`);
  });
}

/**
 * Peak RSS of the bridge's process tree while `fn` runs (sampled every 20 ms), against just
 * before; and the CPU seconds the bridge and this process (the client) spent meanwhile.
 */
export async function withRss<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; beforeKiB: number; peakKiB: number; bridgeCpuS: number; clientCpuS: number }> {
  const beforeKiB = treeRssKiB(pid);
  const cpu0 = treeCpuSeconds(pid);
  const self0 = selfCpuSeconds();
  let peakKiB = beforeKiB;
  const timer = setInterval(() => { peakKiB = Math.max(peakKiB, treeRssKiB(pid)); }, 20);
  try {
    const value = await fn();
    peakKiB = Math.max(peakKiB, treeRssKiB(pid));
    return { value, beforeKiB, peakKiB, bridgeCpuS: treeCpuSeconds(pid) - cpu0, clientCpuS: selfCpuSeconds() - self0 };
  } finally {
    clearInterval(timer);
  }
}

/** A v1 session on the bridge with a file token, its SFTP channel already open. */
export interface FilesSession {
  readonly base: string;
  readonly token: string;
  close(): Promise<void>;
}

export async function openFilesSession(bridgePort: number, target: Target): Promise<FilesSession> {
  let resolveToken: (t: string) => void = () => undefined;
  const tokenP = new Promise<string>((r) => { resolveToken = r; });
  const url = `ws://127.0.0.1:${bridgePort}/ws/${target.host}/${target.port}`;
  const { term, ws } = await connectBridge(url, target, CONNECT_TIMEOUT_MS, {
    onControl: (m) => { if (m.type === 'files-token' && typeof m.token === 'string') resolveToken(m.token); },
  });
  const t: Term = term;
  try {
    ws.send(JSON.stringify({ type: 'files' }));
    const token = await withTimeout(tokenP, 10_000, 'files-token');
    const base = `http://127.0.0.1:${bridgePort}/`;
    // The first file request opens the session's SFTP channel: not part of a measured transfer.
    const list = await http(base, 'GET', 'api/files/list?path=.', token);
    if (list.status !== 200) throw new Error(`list: HTTP ${list.status} ${list.body}`);
    return { base, token, close: () => closeTerm(t) };
  } catch (err) {
    await closeTerm(t);
    throw err;
  }
}

interface Answer { status: number; body: string }

function http(base: string, method: string, path: string, token: string, body?: { file: string; size: number }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'X-Files-Token': token };
    if (body !== undefined) headers['Content-Length'] = String(body.size);
    const req = request(`${base}${path}`, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else pipeline(createReadStream(body.file, { highWaterMark: 256 * 1024 }), req).catch(reject);
  });
}

/** PUT `local` to `remote` (overwrite); seconds from the request's start to the 201, and the sha256 the bridge reports. */
export async function bridgeUpload(s: FilesSession, local: string, size: number, remote: string): Promise<{ seconds: number; sha256: string }> {
  const q = new URLSearchParams({ path: remote, overwrite: '1' }).toString();
  const t0 = process.hrtime.bigint();
  const a = await withTimeout(http(s.base, 'PUT', `api/files/upload?${q}`, s.token, { file: local, size }), TRANSFER_TIMEOUT_MS, 'upload');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (a.status !== 201) throw new Error(`upload: HTTP ${a.status} ${a.body.slice(0, 300)}`);
  const j = JSON.parse(a.body) as { bytes?: number; sha256?: string };
  if (j.bytes !== size) throw new Error(`upload: bridge stored ${j.bytes ?? '?'} bytes, sent ${size}`);
  return { seconds, sha256: j.sha256 ?? '' };
}

/**
 * download-link for `remote`, then GET it into `local`; seconds for both and the bytes received.
 * The bytes are hashed on disk afterwards, as `sftp`'s are: hashing them as they arrive would
 * spend this process's CPU, on a 2-core machine, against the bridge's and not against sftp's.
 */
export async function bridgeDownload(s: FilesSession, remote: string, local: string): Promise<{ seconds: number; bytes: number }> {
  const q = new URLSearchParams({ path: remote }).toString();
  const t0 = process.hrtime.bigint();
  const link = await http(s.base, 'POST', `api/files/download-link?${q}`, s.token);
  if (link.status !== 200) throw new Error(`download-link: HTTP ${link.status} ${link.body.slice(0, 300)}`);
  const url = (JSON.parse(link.body) as { url: string }).url;
  let bytes = 0;
  await withTimeout(new Promise<void>((resolve, reject) => {
    const req = request(`${s.base}${url.replace(/^\//, '')}`, { method: 'GET' }, (res) => {
      if (res.statusCode !== 200) { res.resume(); reject(new Error(`download: HTTP ${res.statusCode ?? 0}`)); return; }
      res.on('data', (c: Buffer) => { bytes += c.length; });
      pipeline(res, createWriteStream(local)).then(resolve, reject);
    });
    req.on('error', reject);
    req.end();
  }), TRANSFER_TIMEOUT_MS, 'download');
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { seconds, bytes };
}
