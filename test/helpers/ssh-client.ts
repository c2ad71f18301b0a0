/** A plain ssh2 client for harness tests, with every wait bounded. */
import ssh2 from 'ssh2';
import type { ConnectConfig, Client as SshClient } from 'ssh2';

/** Reject with a message naming `what` when `p` takes longer than `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_r, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Connect and authenticate; `readyTimeoutMs` bounds ssh2's own handshake, the outer wait is twice that. */
export function connectClient(cfg: ConnectConfig, readyTimeoutMs = 10_000): Promise<SshClient> {
  const c = new ssh2.Client();
  return within(new Promise<SshClient>((resolve, reject) => {
    c.once('ready', () => resolve(c)).once('error', reject).connect({ readyTimeout: readyTimeoutMs, ...cfg });
  }), readyTimeoutMs + 5_000, 'ssh connect');
}
