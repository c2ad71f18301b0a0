/**
 * The transfers of the files row (bench/files.ts). A: OpenSSH's own `sftp` client in batch mode
 * (`-b`), key auth, to the same sshd as the same user. B: the bridge's file API
 * (docs/protocol.md#files) on a v1 session: `files` → `files-token`, then `curl` as a script would:
 * `PUT api/files/upload` with the file as the body (`curl -T`), and `GET` of the link that
 * `POST api/files/download-link` gave, the body to disk (`curl -o`). A C client on both sides:
 * the Node client this row used before spent 4-8 ms of CPU per MiB which, on a 2-core machine,
 * came out of the bridge's share and not sftp's. Every transfer is checked by sha256 of what
 * arrived.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { connectBridge } from './bridge-client.js';
import { selfAndChildrenCpuSeconds, treeCpuSeconds, treeRssKiB } from './procfs.js';
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
  return runChild('/usr/bin/sftp', args, `${commands.join('\n')}\n`).then((r) => r.seconds);
}

/** What a child run to its end gave: its stdout and its wall time from spawn to exit. */
interface ChildRun { stdout: string; seconds: number }

/**
 * Run `file` with `args` (`input` on its stdin, or none), SIGKILLed after TRANSFER_TIMEOUT_MS;
 * resolves on exit 0, rejects with the exit status and the tail of its stderr otherwise.
 */
function runChild(file: string, args: string[], input: string | null): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(file, args, { stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
    const timer = setTimeout(() => child.kill('SIGKILL'), TRANSFER_TIMEOUT_MS);
    child.once('error', (e) => { clearTimeout(timer); reject(new Error(`${file}: ${e.message}`)); });
    child.once('close', (code, sig) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code === 0) resolve({ stdout: Buffer.concat(out).toString('utf8'), seconds });
      else reject(new Error(`${file} exit ${code ?? sig}: ${err.trim()}`));
    });
    if (input !== null) child.stdin?.end(input);
  });
}

/**
 * Peak RSS of the bridge's process tree while `fn` runs (sampled every 20 ms), against just
 * before; and the CPU seconds the bridge and the client (this process and the curl it ran) spent meanwhile.
 */
export async function withRss<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; beforeKiB: number; peakKiB: number; bridgeCpuS: number; clientCpuS: number }> {
  const beforeKiB = treeRssKiB(pid);
  const cpu0 = treeCpuSeconds(pid);
  const self0 = selfAndChildrenCpuSeconds();
  let peakKiB = beforeKiB;
  const timer = setInterval(() => { peakKiB = Math.max(peakKiB, treeRssKiB(pid)); }, 20);
  try {
    const value = await fn();
    peakKiB = Math.max(peakKiB, treeRssKiB(pid));
    return { value, beforeKiB, peakKiB, bridgeCpuS: treeCpuSeconds(pid) - cpu0, clientCpuS: selfAndChildrenCpuSeconds() - self0 };
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

function http(base: string, method: string, path: string, token: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, headers: { 'X-Files-Token': token } }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** From PATH, as a script would run it. */
const CURL = 'curl';

/** What `curl -w` reports after a transfer (its own clock: from its start of the request to the end, without its process start-up). */
interface CurlDone { status: number; seconds: number; bytes: number; body: string }

/**
 * Run `curl` (the client a script would use: docs/protocol.md#files); `-w` prints the status,
 * curl's own total time and the body bytes received on the last line of stdout, after the body
 * when there is one (`bodyTo` null), or the body goes to the file `bodyTo`.
 */
async function curl(args: string[], bodyTo: string | null): Promise<CurlDone> {
  const all = ['-sS', '-g', '-o', bodyTo ?? '-', '-w', '\n%{http_code} %{time_total} %{size_download}', ...args];
  const text = (await runChild(CURL, all, null).catch((e: Error) => { throw new Error(`${e.message} (the files row needs curl)`); })).stdout;
  const cut = text.lastIndexOf('\n');
  const [status, seconds, bytes] = text.slice(cut + 1).split(' ').map(Number);
  if (status === undefined || seconds === undefined || bytes === undefined || [status, seconds, bytes].some((n) => !Number.isFinite(n))) {
    throw new Error(`curl: no status line in what it printed: ${text.slice(-300)}`);
  }
  return { status, seconds, bytes, body: text.slice(0, cut) };
}

/**
 * PUT `local` to `remote` (overwrite) with curl; seconds by curl's own clock (`time_total`: the
 * request, the body and the 201), and the sha256 the bridge reports.
 */
export async function bridgeUpload(s: FilesSession, local: string, size: number, remote: string): Promise<{ seconds: number; sha256: string }> {
  const q = new URLSearchParams({ path: remote, overwrite: '1' }).toString();
  const a = await curl(['-T', local, '-H', `X-Files-Token: ${s.token}`, `${s.base}api/files/upload?${q}`], null);
  if (a.status !== 201) throw new Error(`upload: HTTP ${a.status} ${a.body.slice(0, 300)}`);
  const j = JSON.parse(a.body) as { bytes?: number; sha256?: string };
  if (j.bytes !== size) throw new Error(`upload: bridge stored ${j.bytes ?? '?'} bytes, sent ${size}`);
  return { seconds: a.seconds, sha256: j.sha256 ?? '' };
}

/**
 * download-link for `remote` (this process, timed), then curl GETs it into `local`; seconds for
 * both (curl's by its own clock) and the bytes received. The bytes are hashed on disk afterwards,
 * as `sftp`'s are.
 */
export async function bridgeDownload(s: FilesSession, remote: string, local: string): Promise<{ seconds: number; bytes: number }> {
  const q = new URLSearchParams({ path: remote }).toString();
  const t0 = process.hrtime.bigint();
  const link = await http(s.base, 'POST', `api/files/download-link?${q}`, s.token);
  if (link.status !== 200) throw new Error(`download-link: HTTP ${link.status} ${link.body.slice(0, 300)}`);
  const linkS = Number(process.hrtime.bigint() - t0) / 1e9;
  const url = (JSON.parse(link.body) as { url: string }).url;
  const got = await curl([`${s.base}${url.replace(/^\//, '')}`], local);
  if (got.status !== 200) throw new Error(`download: HTTP ${got.status}`);
  return { seconds: linkS + got.seconds, bytes: got.bytes };
}
