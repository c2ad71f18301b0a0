/**
 * OpenSSH's own client as a benchmark side: `ssh -tt` spawned with pipes (no local terminal,
 * no node-pty), its stdout fed to a Term, keystrokes written to its stdin. `-tt` forces a PTY on
 * the server even though stdin is a pipe, so the remote shell echoes exactly as for a terminal
 * user; with stdin a pipe the client does no line editing of its own and EscapeChar is none, so
 * every byte goes through as typed. Key auth with a generated key, host keys checked strictly
 * against a known_hosts written by the benchmark; everything is in one config file passed with
 * `-F`, which `ssh -J` passes on to the `ssh -W` it runs for the jump host (options given with
 * `-o` would apply to the target only).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PTY, Term, withTimeout, type Opener, type Target } from './term.js';

export const SSH_PATH = '/usr/bin/ssh';

/** A server as the config needs it: where, who, and its host public key (`ssh-ed25519 AAAA...`). */
export interface SshServer { readonly host: string; readonly port: number; readonly username: string; readonly hostPublicKey: string }

/**
 * known_hosts with every server's key, and an ssh_config for all hosts: this key only, strict
 * host key checks, no password or keyboard-interactive fallback, no multiplexing, quiet; with
 * `kex`, only that key exchange (null: OpenSSH's own list, which puts sntrup761x25519 first).
 * Returns the config's path.
 */
export function writeSshConfig(dir: string, key: string, servers: readonly SshServer[], kex: string | null): string {
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, servers.map((s) => `[${s.host}]:${s.port} ${s.hostPublicKey}\n`).join(''));
  const config = join(dir, 'ssh_config');
  writeFileSync(config, [
    'Host *',
    `  IdentityFile ${key}`, '  IdentitiesOnly yes', '  IdentityAgent none',
    `  UserKnownHostsFile ${knownHosts}`, '  GlobalKnownHostsFile /dev/null',
    '  StrictHostKeyChecking yes', '  CheckHostIP no', '  UpdateHostKeys no',
    '  BatchMode yes', '  PasswordAuthentication no', '  KbdInteractiveAuthentication no',
    '  ControlMaster no', '  ControlPath none', '  EscapeChar none', '  LogLevel ERROR',
    ...(kex === null ? [] : [`  KexAlgorithms ${kex}`]),
    '',
  ].join('\n'));
  return config;
}

let seq = 0;

/**
 * `ssh -F config -tt [-J user@host:port] -p PORT user@host`: a login shell on the target's PTY,
 * open once `target.prompt` arrives. Closing sends SIGTERM (ssh closes its connections), a
 * teardown SIGKILL.
 */
export function sshOpener(config: string, target: Target, jump: SshServer | null): Opener {
  const args = ['-F', config, '-tt', ...(jump === null ? [] : ['-J', `${jump.username}@${jump.host}:${jump.port}`]), '-p', String(target.port), `${target.username}@${target.host}`];
  return (timeoutMs) => openSsh(args, target, timeoutMs, jump === null ? 'ssh' : 'ssh-J');
}

async function openSsh(args: string[], target: Target, timeoutMs: number, name: string): Promise<Term> {
  const term = new Term(`${name}#${++seq}`);
  const child = spawn(SSH_PATH, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: PTY.term } });
  let err = '';
  child.stderr.on('data', (d: Buffer) => { err = (err + d.toString('utf8')).slice(-2000); });
  child.stdout.on('data', (d: Buffer) => term.push(d));
  child.stdin.on('error', () => undefined); // a write after ssh exited: the exit reports it
  child.once('error', (e) => term.ended(`spawn error: ${e.message}`));
  child.once('exit', (code, sig) => term.ended(`ssh exit ${code ?? sig}${err === '' ? '' : `: ${err.trim()}`}`));
  term.attach({
    write: (data) => { child.stdin.write(data); },
    close: () => { child.kill('SIGTERM'); },
    destroy: () => { child.kill('SIGKILL'); },
  });
  try {
    await withTimeout(term.waitFor(target.prompt, timeoutMs), timeoutMs, `${term.label} connect to prompt`, () => child.kill('SIGKILL'));
  } catch (e) {
    term.destroy();
    throw e;
  }
  return term;
}
