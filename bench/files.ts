/**
 * The files row of `npm run bench` (BENCH_FILES=1 after the A/B rounds, BENCH_FILES=only alone):
 * upload and download MiB/s of one BENCH_FILES_MB MiB file of random bytes (64), A = OpenSSH's
 * own `sftp` client (batch mode, key auth) against B = `curl` on the bridge's file API (HTTP, over
 * the session's own SSH connection, SFTP), both to the same sshd as the same user, interleaved per
 * round (A up, B up, A down, B down), BENCH_FILES_ROUNDS rounds (3) after one unrecorded warm-up
 * of each. Every transfer is checked by sha256 of what arrived. Also: the bridge's peak RSS
 * during each of its transfers minus its RSS just before (a fresh single-process bridge).
 */
import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BridgeProc } from './bridge-proc.js';
import { bridgeDownload, bridgeUpload, openFilesSession, sftpBatch, sha256File, withRss, type FilesSession, type SftpSetup } from './files-workloads.js';
import { median, MiB, round } from './stats.js';
import type { Target } from './term.js';

export interface FilesKnobs { rounds: number; mib: number }

type Attempt = <T>(what: string, fn: () => Promise<T>) => Promise<T | null>;

/** A key pair for `sftp` in a fresh temp dir; the sshd must be started with `authorizedKey: pub`. */
export function makeSftpKey(): { dir: string; key: string; pub: string } {
  const dir = mkdtempSync('/tmp/uwsb-files-');
  const key = join(dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'uwsb-bench-sftp', '-f', key], { stdio: 'pipe' });
  return { dir, key, pub: readFileSync(`${key}.pub`, 'utf8').trim() };
}

interface Sshd { host: string; port: number; username: string; hostPublicKey: string }

interface Transfer { seconds: number; mibPerS: number }
interface BridgeTransfer extends Transfer { rssBeforeKiB: number; rssGrowthKiB: number; bridgeCpuMsPerMiB: number; clientCpuMsPerMiB: number }
interface FilesRound {
  round: number;
  sftpConnectS: number | null;
  sftpUp: (Transfer & { wallS: number }) | null;
  bridgeUp: BridgeTransfer | null;
  sftpDown: (Transfer & { wallS: number }) | null;
  bridgeDown: BridgeTransfer | null;
}

export interface FilesResult { text: string; json: Record<string, unknown> }

const f = (x: number | null | undefined, d: number): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '-');
const med = (xs: (number | null | undefined)[]): number | null => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length === 0 ? null : median(v);
};

function homeOf(user: string): { uid: number; gid: number; home: string } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  const p = line?.split(':');
  if (p === undefined) throw new Error(`no user ${user}`);
  return { uid: Number(p[2]), gid: Number(p[3]), home: p[5] ?? `/home/${user}` };
}

export async function filesRow(
  target: Target, sshd: Sshd, key: { dir: string; key: string }, bridge: BridgeProc, k: FilesKnobs,
  log: (msg: string) => void, attempt: Attempt,
): Promise<FilesResult> {
  const local = key.dir;
  const src = join(local, 'src.bin');
  execFileSync('sh', ['-c', `head -c ${k.mib * MiB} /dev/urandom > '${src}'`]);
  const size = statSync(src).size;
  const want = await sha256File(src);
  const knownHosts = join(local, 'known_hosts');
  writeFileSync(knownHosts, `[${sshd.host}]:${sshd.port} ${sshd.hostPublicKey}\n`);
  // The remote side: a directory in the test user's home, the download source in it.
  const u = homeOf(sshd.username);
  const rdirName = `uwsb-bench-files-${local.slice(-6)}`;
  const rdir = join(u.home, rdirName);
  mkdirSync(rdir, { mode: 0o755 });
  chownSync(rdir, u.uid, u.gid);
  copyFileSync(src, join(rdir, 'src.bin'));
  chownSync(join(rdir, 'src.bin'), u.uid, u.gid);
  const s: SftpSetup = { key: key.key, knownHosts, host: sshd.host, port: sshd.port, user: sshd.username };
  const mibs = size / MiB;

  const check = async (what: string, path: string): Promise<void> => {
    const got = await sha256File(path);
    if (got !== want) throw new Error(`${what}: sha256 ${got} of what arrived, sent ${want}`);
  };
  const sftpConnect = async (): Promise<number> => sftpBatch(s, ['pwd']);
  const sftpUp = async (connectS: number): Promise<Transfer & { wallS: number }> => {
    const wallS = await sftpBatch(s, [`put ${src} ${rdirName}/up-A.bin`]);
    await check('sftp upload', join(rdir, 'up-A.bin'));
    rmSync(join(rdir, 'up-A.bin'));
    const seconds = Math.max(wallS - connectS, 1e-6);
    return { wallS, seconds, mibPerS: mibs / seconds };
  };
  const sftpDown = async (connectS: number): Promise<Transfer & { wallS: number }> => {
    const dst = join(local, 'down-A.bin');
    const wallS = await sftpBatch(s, [`get ${rdirName}/src.bin ${dst}`]);
    await check('sftp download', dst);
    rmSync(dst);
    const seconds = Math.max(wallS - connectS, 1e-6);
    return { wallS, seconds, mibPerS: mibs / seconds };
  };
  const bridgeUp = async (fs: FilesSession): Promise<BridgeTransfer> => {
    const r = await withRss(bridge.pid, () => bridgeUpload(fs, src, size, `${rdirName}/up-B.bin`));
    if (r.value.sha256 !== want) throw new Error(`bridge upload: the bridge reports sha256 ${r.value.sha256}, sent ${want}`);
    await check('bridge upload', join(rdir, 'up-B.bin'));
    rmSync(join(rdir, 'up-B.bin'));
    return { seconds: r.value.seconds, mibPerS: mibs / r.value.seconds, rssBeforeKiB: r.beforeKiB, rssGrowthKiB: r.peakKiB - r.beforeKiB, ...cpuPerMiB(r) };
  };
  const bridgeDown = async (fs: FilesSession): Promise<BridgeTransfer> => {
    const dst = join(local, 'down-B.bin');
    const r = await withRss(bridge.pid, () => bridgeDownload(fs, `${rdirName}/src.bin`, dst));
    if (r.value.bytes !== size) throw new Error(`bridge download: ${r.value.bytes} bytes; sent ${size}`);
    await check('bridge download (on disk)', dst);
    rmSync(dst);
    return { seconds: r.value.seconds, mibPerS: mibs / r.value.seconds, rssBeforeKiB: r.beforeKiB, rssGrowthKiB: r.peakKiB - r.beforeKiB, ...cpuPerMiB(r) };
  };

  const cpuPerMiB = (r: { bridgeCpuS: number; clientCpuS: number }): { bridgeCpuMsPerMiB: number; clientCpuMsPerMiB: number } => (
    { bridgeCpuMsPerMiB: (r.bridgeCpuS * 1000) / mibs, clientCpuMsPerMiB: (r.clientCpuS * 1000) / mibs });
  const rounds: FilesRound[] = [];
  try {
    log(`files: ${size} bytes, warm-up (not recorded)`);
    const c0 = await attempt('files warm-up sftp', sftpConnect) ?? 0;
    await attempt('files warm-up sftp up', () => sftpUp(c0));
    await attempt('files warm-up sftp down', () => sftpDown(c0));
    await attempt('files warm-up bridge', async () => {
      const fs = await openFilesSession(bridge.port, target);
      try { await bridgeUp(fs); await bridgeDown(fs); } finally { await fs.close(); }
    });
    for (let r = 1; r <= k.rounds; r++) {
      const what = `files round ${r}/${k.rounds}`;
      const rd: FilesRound = { round: r, sftpConnectS: null, sftpUp: null, bridgeUp: null, sftpDown: null, bridgeDown: null };
      rounds.push(rd);
      const fs = await attempt(`${what} bridge session`, () => openFilesSession(bridge.port, target));
      try {
        // sftp's own connect and login (an empty batch), twice, the mean subtracted from its transfers.
        const c1 = await attempt(`${what} sftp connect`, sftpConnect);
        const c2 = await attempt(`${what} sftp connect`, sftpConnect);
        rd.sftpConnectS = c1 !== null && c2 !== null ? (c1 + c2) / 2 : c1 ?? c2;
        const cs = rd.sftpConnectS ?? 0;
        rd.sftpUp = await attempt(`${what} sftp upload`, () => sftpUp(cs));
        if (fs) rd.bridgeUp = await attempt(`${what} bridge upload`, () => bridgeUp(fs));
        rd.sftpDown = await attempt(`${what} sftp download`, () => sftpDown(cs));
        if (fs) rd.bridgeDown = await attempt(`${what} bridge download`, () => bridgeDown(fs));
      } finally {
        await fs?.close();
      }
      log(`  up: sftp ${f(rd.sftpUp?.mibPerS, 1)} MiB/s (wall ${f(rd.sftpUp?.wallS, 3)} s, connect ${f(rd.sftpConnectS, 3)} s), bridge ${f(rd.bridgeUp?.mibPerS, 1)} MiB/s (+${f(rd.bridgeUp?.rssGrowthKiB, 0)} KiB RSS); down: sftp ${f(rd.sftpDown?.mibPerS, 1)} MiB/s, bridge ${f(rd.bridgeDown?.mibPerS, 1)} MiB/s (+${f(rd.bridgeDown?.rssGrowthKiB, 0)} KiB RSS)`);
    }
  } finally {
    rmSync(rdir, { recursive: true, force: true });
  }
  return summarizeFiles(rounds, size, k);
}

function summarizeFiles(rounds: FilesRound[], size: number, k: FilesKnobs): FilesResult {
  const ratio = (b: Transfer | null, a: Transfer | null): number | null => (a && b ? b.mibPerS / a.mibPerS : null);
  const rows = (['up', 'down'] as const).map((dir) => {
    const a = rounds.map((r) => (dir === 'up' ? r.sftpUp : r.sftpDown));
    const b = rounds.map((r) => (dir === 'up' ? r.bridgeUp : r.bridgeDown));
    const aMed = med(a.map((x) => x?.mibPerS));
    const aWallMed = med(a.map((x) => (x ? size / MiB / x.wallS : null)));
    const bMed = med(b.map((x) => x?.mibPerS));
    const growth = b.map((x) => x?.rssGrowthKiB).filter((x): x is number => typeof x === 'number');
    return {
      direction: dir,
      sftpMiBs: round(aMed ?? NaN, 1), sftpWallMiBs: round(aWallMed ?? NaN, 1), bridgeMiBs: round(bMed ?? NaN, 1),
      ratio: aMed !== null && bMed !== null ? round(bMed / aMed) : null,
      ratioPerRoundMedian: round(med(rounds.map((_r, i) => ratio(b[i] ?? null, a[i] ?? null))) ?? NaN),
      rssGrowthKiBMax: growth.length > 0 ? Math.max(...growth) : null,
      rssBeforeKiB: med(b.map((x) => x?.rssBeforeKiB)),
      bridgeCpuMsPerMiB: round(med(b.map((x) => x?.bridgeCpuMsPerMiB)) ?? NaN, 2),
      clientCpuMsPerMiB: round(med(b.map((x) => x?.clientCpuMsPerMiB)) ?? NaN, 2),
    };
  });
  const connect = med(rounds.map((r) => r.sftpConnectS));
  const lines = [
    `files row: ${f(size / MiB, 0)} MiB of random bytes, ${k.rounds} rounds, medians; A = OpenSSH sftp -b (key auth), B = curl on the bridge's file API (HTTP, SFTP on the session's own connection); sha256 checked both ways`,
    `sftp's own connect and login (an empty batch, median ${f(connect, 3)} s) is subtracted from its transfers ("sftp wall" keeps it)`,
    `CPU during B's transfers, ms per MiB (medians): ${rows.map((r) => `${r.direction} bridge ${f(r.bridgeCpuMsPerMiB, 2)}, client (curl and this process) ${f(r.clientCpuMsPerMiB, 2)}`).join('; ')}`,
    '',
    '| direction | sftp MiB/s | sftp wall MiB/s | bridge MiB/s | B/A | B/A per round (median) | bridge RSS growth, max (KiB) | bridge RSS before (KiB) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.direction === 'up' ? 'upload' : 'download'} | ${f(r.sftpMiBs, 1)} | ${f(r.sftpWallMiBs, 1)} | ${f(r.bridgeMiBs, 1)} | ${f(r.ratio, 3)}x | ${f(r.ratioPerRoundMedian, 3)}x | ${f(r.rssGrowthKiBMax, 0)} | ${f(r.rssBeforeKiB, 0)} |`),
  ];
  return { text: lines.join('\n'), json: { fileBytes: size, rounds: k.rounds, sftpConnectS: connect, summary: rows, perRound: rounds } };
}
