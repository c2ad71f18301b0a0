/**
 * Side A: a plain ssh2 client straight to sshd, set up the way the bridge sets up its own SSH
 * leg (TCP_NODELAY socket, default ssh2 algorithms, password auth, PTY xterm-256color 120x40),
 * so the only difference to side B is the bridge hop.
 */
import { connect as tcpConnect } from 'node:net';
import ssh2 from 'ssh2';
import type { ClientChannel } from 'ssh2';
import { PTY, Term, withTimeout, type Opener, type Target } from './term.js';

let seq = 0;

export function directOpener(target: Target): Opener {
  return (timeoutMs) => openDirect(target, timeoutMs);
}

export async function openDirect(target: Target, timeoutMs: number): Promise<Term> {
  const term = new Term(`direct#${++seq}`);
  const client = new ssh2.Client();
  const sock = tcpConnect({ host: target.host, port: target.port, noDelay: true });
  let channel: ClientChannel | undefined;
  const destroy = (): void => {
    channel?.destroy();
    client.end();
    sock.destroy();
  };
  term.attach({
    write: (data) => { channel?.write(data); },
    close: () => { client.end(); },
    destroy,
  });
  client.on('error', (err) => term.ended(`ssh error: ${err.message}`));
  client.on('close', () => term.ended('ssh connection closed'));
  sock.on('error', (err) => term.ended(`socket error: ${err.message}`));

  const opened = new Promise<void>((resolve, reject) => {
    client.once('ready', () => {
      client.shell({ term: PTY.term, cols: PTY.cols, rows: PTY.rows, width: 0, height: 0 }, (err, stream) => {
        if (err !== undefined && err !== null) { reject(err); return; }
        channel = stream;
        stream.on('data', (d: Buffer) => term.push(d));
        stream.stderr.on('data', (d: Buffer) => term.push(d));
        stream.on('close', () => term.ended('channel closed'));
        resolve();
      });
    });
    void term.closed.then(() => reject(new Error(`${term.label}: closed during setup`)));
  });
  sock.once('connect', () => {
    client.connect({
      sock,
      username: target.username,
      password: target.password,
      readyTimeout: timeoutMs,
      hostVerifier: () => true,
    });
  });
  try {
    await withTimeout((async () => {
      await opened;
      await term.waitFor(target.prompt, timeoutMs);
    })(), timeoutMs, `${term.label} connect to prompt`, destroy);
  } catch (err) {
    term.destroy();
    throw err;
  }
  return term;
}
