/** Opens the interactive shell with a PTY on an authenticated connection. */
import type { Client as SshClient, ClientChannel } from 'ssh2';
import { BridgeError } from '../errors.js';

export interface PtySpec {
  readonly term: string;
  readonly cols: number;
  readonly rows: number;
}

export function openShell(client: SshClient, pty: PtySpec): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.shell({ term: pty.term, cols: pty.cols, rows: pty.rows, width: 0, height: 0 }, (err, channel) => {
      if (err !== undefined && err !== null) reject(new BridgeError('CHANNEL_FAILED', undefined, { cause: err }));
      else resolve(channel);
    });
  });
}
