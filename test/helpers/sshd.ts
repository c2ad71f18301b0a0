import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, writeFileSync, readFileSync, readdirSync, rmSync, openSync, closeSync, unlinkSync, statSync, chownSync, renameSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port.js';
import { SSHD_PATH } from './require.js';

/** The local account the real-sshd tests log in as (created on demand; needs root). */
export const TEST_USER = 'uwsbtest';
/** Fixed password for TEST_USER; (re)set on every start so it is always known. */
export const TEST_PASSWORD = 'uwsb-Test-pass-7';
/** Prompt TEST_USER's ~/.bashrc sets, so tests can wait for a ready shell. */
export const TEST_PROMPT = 'uwsb$ ';

/** A running, test-owned OpenSSH daemon. */
export interface SshdHandle {
  /** The loopback address it listens on (127.0.0.1 unless `listenAddress` said otherwise). */
  host: string;
  port: number;
  username: string;
  password: string;
  /** `SHA256:...`, exactly as `ssh-keygen -lf` prints it. */
  hostKeyFingerprint: string;
  /** The host public key as OpenSSH writes it: `ssh-ed25519 AAAA... uwsb-test-host` (no newline). */
  hostPublicKey: string;
  /** The AuthorizedKeysFile (with `authorizedKey`): sshd reads it on every login, so rewriting it swaps the key. */
  authorizedKeys: string;
  /** Kill sshd and every session it spawned, remove its temp dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * PIDs of live processes owned by TEST_USER that belong to THIS sshd (its descendants or
   * tagged with its per-instance env var), so parallel test files do not see each other's shells.
   */
  userProcesses(): Promise<number[]>;
  /** Tail (32 KiB) of sshd's stderr (LogLevel VERBOSE), to attach to assertion messages. */
  log(): string;
}

interface Proc { pid: number; ppid: number; euid: number; zombie: boolean }

function listProcs(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const uidLine = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'));
      out.push({ pid: Number(name), ppid: Number(fields[1]), euid: Number(uidLine?.[1] ?? -1), zombie: fields[0] === 'Z' });
    } catch { /* process vanished mid-scan */ }
  }
  return out;
}

function hasTag(pid: number, tag: string): boolean {
  try { return readFileSync(`/proc/${pid}/environ`).includes(`UWSB_SSHD=${tag}\0`); } catch { return false; }
}

/** Live (non-zombie) descendants of `root` plus anything carrying `tag` in its environment. */
function instanceProcs(root: number | undefined, tag: string): Proc[] {
  const procs = listProcs().filter((p) => !p.zombie);
  const tree = new Set<number>(root === undefined ? [] : [root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) if (!tree.has(p.pid) && tree.has(p.ppid)) { tree.add(p.pid); grew = true; }
  }
  return procs.filter((p) => p.pid !== root && (tree.has(p.pid) || hasTag(p.pid, tag)));
}

function lookupUser(name: string): { uid: number; gid: number; home: string } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const f = line?.split(':');
  return f ? { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? `/home/${name}` } : undefined;
}

/** Create/refresh the test account under a cross-process lock (test files run in parallel). */
async function ensureTestUser(): Promise<{ uid: number }> {
  if (process.getuid?.() !== 0) {
    throw new Error(`startSshd needs root: it must create/reset the local account '${TEST_USER}' and run sshd with password auth`);
  }
  const lock = '/tmp/uwsbtest.lock';
  const deadline = Date.now() + 30_000;
  for (;;) {
    try { closeSync(openSync(lock, 'wx')); break; } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try { if (Date.now() - statSync(lock).mtimeMs > 60_000) unlinkSync(lock); } catch { /* raced */ }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(50);
    }
  }
  try {
    if (!lookupUser(TEST_USER)) {
      try { execFileSync('useradd', ['-m', '-s', '/bin/bash', TEST_USER], { stdio: 'pipe' }); } catch (err) {
        if ((err as { status?: number }).status !== 9) throw err; // 9 = already exists
      }
    }
    execFileSync('chpasswd', [], { input: `${TEST_USER}:${TEST_PASSWORD}\n`, stdio: ['pipe', 'pipe', 'pipe'] });
    const u = lookupUser(TEST_USER);
    if (!u) throw new Error(`user ${TEST_USER} still missing after useradd`);
    mkdirSync(u.home, { recursive: true });
    const files: Record<string, string> = {
      '.bashrc': `PS1='${TEST_PROMPT}'\nunset PROMPT_COMMAND HISTFILE\n`,
      '.profile': '[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"\n',
      '.inputrc': '$include /etc/inputrc\nset enable-bracketed-paste off\n', // no \e[?2004h noise
      '.bash_logout': '',
      '.hushlogin': '',
    };
    for (const [name, body] of Object.entries(files)) {
      const file = join(u.home, name);
      let current: string | undefined;
      try { current = readFileSync(file, 'utf8'); } catch { /* missing */ }
      if (current === body) continue;
      // Atomic replace: a parallel test file's shell may be reading these right now.
      writeFileSync(`${file}.tmp`, body);
      chownSync(`${file}.tmp`, u.uid, u.gid);
      renameSync(`${file}.tmp`, file);
    }
    chownSync(u.home, u.uid, u.gid);
    return { uid: u.uid };
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Resolve once `port` answers with an OpenSSH identification line. */
async function probeBanner(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    let buf = '';
    const sock = connect(port, host);
    const done = (ok: boolean): void => { sock.destroy(); resolve(ok); };
    sock.setTimeout(1000, () => done(false));
    sock.on('data', (d) => { buf += d.toString('latin1'); if (buf.includes('SSH-2.0-OpenSSH')) done(true); });
    sock.on('error', () => done(false));
    sock.on('close', () => done(false));
  });
}

/**
 * Start a real OpenSSH sshd (foreground, own config/host key/temp dir) on a free loopback
 * port, for end-to-end tests that must prove behaviour against the genuine server.
 */
export interface SshdOptions {
  maxSessions?: number;
  banner?: string;
  /** Enable publickey auth with this one key (`ssh-ed25519 AAAA... comment`) in an AuthorizedKeysFile in the temp dir. */
  authorizedKey?: string;
  /** `UsePAM yes` + `KbdInteractiveAuthentication yes`: keyboard-interactive through PAM (its "Password:" prompt). */
  pam?: boolean;
  /** The loopback address to listen on (default 127.0.0.1; any 127.0.0.0/8 address works on Linux). */
  listenAddress?: string;
  /** `AllowTcpForwarding` (OpenSSH's default: yes); false makes a jump host that refuses to forward. */
  allowTcpForwarding?: boolean;
  /** `PermitOpen`: the only `host:port` destinations this server forwards to (OpenSSH's default: any). */
  permitOpen?: readonly string[];
}

export async function startSshd(opts: SshdOptions = {}): Promise<SshdHandle> {
  const { uid } = await ensureTestUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-sshd-'));
  const tag = randomBytes(8).toString('hex');
  const key = join(dir, 'host_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'uwsb-test-host', '-f', key], { stdio: 'pipe' });
  const hostKeyFingerprint = execFileSync('ssh-keygen', ['-lf', `${key}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
  const hostPublicKey = readFileSync(`${key}.pub`, 'utf8').trim();
  if (opts.banner !== undefined) writeFileSync(join(dir, 'banner'), opts.banner);
  const authorizedKeys = join(dir, 'authorized_keys');
  if (opts.authorizedKey !== undefined) {
    // sshd reads the file as the target user: let TEST_USER traverse the dir (the host key stays 0600).
    writeFileSync(authorizedKeys, `${opts.authorizedKey.trim()}\n`, { mode: 0o644 });
    chmodSync(dir, 0o755);
  }

  const listen = opts.listenAddress ?? '127.0.0.1';
  let child: ChildProcess | undefined;
  let log = '';
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    const conf = [
      `ListenAddress ${listen}`, `Port ${port}`,
      `AllowTcpForwarding ${opts.allowTcpForwarding === false ? 'no' : 'yes'}`,
      ...(opts.permitOpen !== undefined ? [`PermitOpen ${opts.permitOpen.join(' ')}`] : []), `HostKey ${key}`, `PidFile ${join(dir, 'sshd.pid')}`,
      'PasswordAuthentication yes',
      `KbdInteractiveAuthentication ${opts.pam === true ? 'yes' : 'no'}`,
      `UsePAM ${opts.pam === true ? 'yes' : 'no'}`,
      ...(opts.authorizedKey !== undefined ? ['PubkeyAuthentication yes', `AuthorizedKeysFile ${authorizedKeys}`] : ['PubkeyAuthentication no']),
      'PermitRootLogin no', `AllowUsers ${TEST_USER}`, 'StrictModes no', 'PrintMotd no', 'PrintLastLog no',
      ...(opts.banner !== undefined ? [`Banner ${join(dir, 'banner')}`] : []),
      'MaxStartups 100:30:200', `MaxSessions ${opts.maxSessions ?? 10}`, 'LogLevel VERBOSE',
      'ClientAliveInterval 0', 'UseDNS no', 'AcceptEnv none', `SetEnv UWSB_SSHD=${tag}`,
      'Subsystem sftp internal-sftp',
    ];
    writeFileSync(join(dir, 'sshd_config'), conf.join('\n') + '\n');
    log = '';
    const proc = spawn(SSHD_PATH, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr?.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-32_768); });
    let exited = false;
    proc.once('exit', () => { exited = true; });
    proc.once('error', (e) => { exited = true; log += `\nspawn error: ${e.message}`; });
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await probeBanner(port, listen))) await sleep(50);
    if (!exited && Date.now() < deadline) { child = proc; break; }
    proc.kill('SIGKILL');
    const bindFail = /Bind to port|Address already in use|Cannot bind/i.test(log);
    if (!bindFail || attempt >= 5) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not come up on ${listen}:${port} (${exited ? 'exited' : 'timeout after 10 s'}, attempt ${attempt}); sshd stderr:\n${log}`);
    }
  }

  const sshd = child;
  const seen = new Set<number>();
  const emergency = (): void => { // test process dying without stop(): do not leak sshd or shells
    for (const p of instanceProcs(sshd.pid, tag)) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } }
    sshd.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', emergency);
  const ours = (): Proc[] => {
    const live = sshd.exitCode === null && sshd.signalCode === null;
    const procs = instanceProcs(live ? sshd.pid : undefined, tag);
    for (const p of procs) seen.add(p.pid);
    // After sshd is gone, orphans lose the tree link: fall back to pids we saw before.
    if (!live) procs.push(...listProcs().filter((p) => !p.zombie && seen.has(p.pid) && !procs.some((q) => q.pid === p.pid)));
    return procs;
  };
  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    const killAll = (): number => { const ps = ours(); for (const p of ps) { try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ } } return ps.length; };
    killAll();
    if (sshd.exitCode === null && sshd.signalCode === null) {
      const exited = new Promise<void>((r) => sshd.once('exit', () => r()));
      sshd.kill('SIGTERM');
      const timer = setTimeout(() => sshd.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    for (let i = 0; i < 60 && killAll() > 0; i++) await sleep(50);
    process.removeListener('exit', emergency);
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    host: listen, port, username: TEST_USER, password: TEST_PASSWORD, hostKeyFingerprint, hostPublicKey, authorizedKeys,
    stop: () => (stopping ??= stop()),
    log: () => log,
    userProcesses: () => Promise.resolve(ours().filter((p) => p.euid === uid).map((p) => p.pid).sort((a, b) => a - b)),
  };
}
