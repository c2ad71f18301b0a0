/**
 * Opens an authenticated SSH connection with a deadline per phase: TCP connect, SSH handshake
 * (key exchange) and authentication each fail with their own catalogue code, so a target that
 * accepts TCP and never speaks ends in HANDSHAKE_TIMEOUT instead of holding the session forever.
 * Dials the already-checked address, never the name again.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { Client as SshClient } from 'ssh2';
import { BridgeError } from '../errors.js';
import type { AuthMethod } from '../protocol/types.js';
import { authHandlerFor } from './auth.js';
import { mapSshError } from './errors.js';

export interface SshConnectOptions {
  readonly address: string;
  readonly port: number;
  readonly username: string;
  readonly auth: AuthMethod;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  /** Pre-auth banner text from the server. */
  readonly onBanner: (message: string) => void;
  /** Aborting (client gone, shutdown) tears down whatever phase is running. */
  readonly signal: AbortSignal;
}

export interface SshConnection {
  readonly client: SshClient;
  /** TCP connect to authenticated, in milliseconds. */
  readonly setupMs: number;
  /** SHA256 fingerprint of the host key, as OpenSSH prints it. */
  readonly hostKey: string;
}

type Phase = 'connect' | 'handshake' | 'auth';
const TIMEOUT_CODE = { connect: 'CONNECT_TIMEOUT', handshake: 'HANDSHAKE_TIMEOUT', auth: 'SSH_AUTH_TIMEOUT' } as const;

export function connectSsh(opts: SshConnectOptions): Promise<SshConnection> {
  if (opts.signal.aborted) return Promise.reject(new BridgeError('CLIENT_CLOSED', 'aborted during ssh setup'));
  return new Promise<SshConnection>((resolve, reject) => {
    const started = performance.now();
    const client = new ssh2.Client();
    let phase: Phase = 'connect';
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    let hostKey = '';
    const sock: Socket = tcpConnect({ host: opts.address, port: opts.port, noDelay: true });

    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      opts.signal.removeEventListener('abort', onAbort);
      client.removeListener('banner', opts.onBanner);
    };
    const fail = (err: BridgeError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      client.removeAllListeners();
      client.on('error', () => undefined); // late errors from the torn-down client are expected
      client.end();
      sock.destroy();
      reject(err);
    };
    const arm = (next: Phase, ms: number): void => {
      phase = next;
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => fail(new BridgeError(TIMEOUT_CODE[phase], `after ${ms} ms`)), ms);
    };
    const onAbort = (): void => fail(new BridgeError('CLIENT_CLOSED', 'aborted during ssh setup'));
    opts.signal.addEventListener('abort', onAbort, { once: true });
    arm('connect', opts.connectTimeoutMs);
    sock.once('error', (err) => {
      if (phase === 'connect') fail(mapSshError(err, phase));
    });
    sock.once('connect', () => {
      if (settled) return;
      arm('handshake', opts.handshakeTimeoutMs);
      client.on('banner', opts.onBanner);
      client.once('handshake', () => {
        if (!settled) arm('auth', opts.authTimeoutMs);
      });
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        cleanup();
        client.removeAllListeners('error');
        resolve({ client, setupMs: performance.now() - started, hostKey });
      });
      client.on('error', (err: Error & { level?: string }) => fail(mapSshError(err, phase)));
      client.once('close', () => fail(new BridgeError('TARGET_UNREACHABLE', 'connection closed during ssh setup')));
      client.connect({
        sock,
        username: opts.username,
        authHandler: authHandlerFor(opts.username, opts.auth),
        // Our own phase timers are shorter; this only guards against a bug in them.
        readyTimeout: opts.handshakeTimeoutMs + opts.authTimeoutMs + 1000,
        keepaliveInterval: opts.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        hostHash: 'sha256',
        hostVerifier: (hash: string) => {
          hostKey = `SHA256:${Buffer.from(hash, 'hex').toString('base64').replace(/=+$/, '')}`;
          return true; // Host key policy (known_hosts, TOFU) arrives with the security work.
        },
      });
    });
  });
}
