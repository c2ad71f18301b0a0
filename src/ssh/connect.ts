/**
 * Opens an authenticated SSH connection with a deadline per phase: TCP connect, SSH handshake
 * (key exchange) and authentication each fail with their own catalogue code, so a target that
 * accepts TCP and never speaks ends in HANDSHAKE_TIMEOUT instead of holding the session forever.
 * Dials the already-checked address, never the name again.
 *
 * Host key: `verifyHostKey` decides on the key the server presents in the key exchange (ssh2
 * calls our verifier with the raw key blob; it may answer later). While it runs (a v1 user may be
 * looking at a prompt) the handshake deadline is paused, and resumes with what was left of it: the
 * wait has its own deadline in the caller. A key approved with `afterHandshake` (store it) gets
 * that step run once the key exchange completed, i.e. the server proved it holds the private key,
 * and before any credential is sent: authentication waits for it, so a key that cannot be stored
 * (another key stored meanwhile, or, with a cluster, one it refuses or cannot be asked about)
 * ends the login before the server sees a password or a signature. A re-key later in the
 * connection must present the very same key, or ssh2 drops the connection.
 *
 * Authentication: a private key is parsed before the TCP connect (SSH_KEY_INVALID /
 * SSH_KEY_PASSPHRASE without touching the target). Keyboard-interactive rounds go to `askPrompt`;
 * the auth deadline keeps running while the client answers, so `ssh-auth-timeout` bounds the whole
 * login including every prompt. The credentials are dropped once authentication is over.
 */
import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AuthHandlerMiddleware, Client as SshClient, ServerHostKeyAlgorithm } from 'ssh2';
import { BridgeError, isBridgeError } from '../errors.js';
import type { AuthMethod } from '../protocol/types.js';
import { authHandlerFor, type AskPrompt, type PreparedAuth } from './auth.js';
import { mapSshError } from './errors.js';
import { parsePrivateKey } from './keys.js';
import { keyTypeOfBlob, sha256Fingerprint } from './known-hosts.js';

/** The host key the server presented. */
export interface PresentedHostKey {
  /** Type from the key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ...). */
  readonly keyType: string;
  /** The raw public key blob. */
  readonly key: Buffer;
  /** `SHA256:...` as `ssh-keygen -lf` prints it. */
  readonly fingerprint: string;
}

export interface HostKeyApproval {
  /** Run after the key exchange completed (e.g. store the key); the connection waits for it. */
  readonly afterHandshake?: () => Promise<void>;
}

export interface SshConnectOptions {
  readonly address: string;
  readonly port: number;
  readonly username: string;
  /**
   * Hands over the credentials; called once, synchronously. The caller keeps no other reference,
   * so the key or password is gone from memory once authentication is over.
   */
  readonly takeAuth: () => AuthMethod;
  /** Keyboard-interactive (v1): put one round to the client; rejecting aborts the login. */
  readonly askPrompt?: AskPrompt;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  /** Pre-auth banner text from the server. */
  readonly onBanner: (message: string) => void;
  /** Aborting (client gone, shutdown) tears down whatever phase is running. */
  readonly signal: AbortSignal;
  /** Accept the host key (resolve) or refuse it (reject with a BridgeError, e.g. HOST_KEY_CHANGED). */
  readonly verifyHostKey: (key: PresentedHostKey) => Promise<HostKeyApproval>;
  /** Longest `verifyHostKey` may take (its own deadline); only widens ssh2's overall safety timeout. */
  readonly hostKeyWaitMs: number;
  /** Host key algorithms in order of preference (known key types first); undefined = ssh2's default. */
  readonly hostKeyAlgorithms?: readonly string[] | undefined;
  /**
   * A stream already connected to the server (a `direct-tcpip` channel through a jump host): no
   * TCP connect, `address` is not dialed, and the handshake clock starts at once.
   */
  readonly sock?: Duplex | undefined;
  /** SSH window of the channels this connection opens (src/ssh/channel-window.ts); undefined = ssh2's 2 MiB. */
  readonly channelWindow?: number | undefined;
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

/** The credentials in the form the auth handler uses; a key is parsed here (throws SSH_KEY_*). */
function prepareAuth(auth: AuthMethod): PreparedAuth {
  switch (auth.method) {
    case 'password':
      return auth;
    case 'publickey':
      return { method: 'publickey', key: parsePrivateKey(auth.privateKey, auth.passphrase) };
    case 'keyboard-interactive':
      return auth;
  }
}

function notStored(err: unknown): BridgeError {
  return isBridgeError(err) ? err : new BridgeError('INTERNAL', 'host key could not be stored', { cause: err });
}

const NO_PROMPTS: AskPrompt = () => Promise.reject(new BridgeError('PROTOCOL_ERROR', 'keyboard-interactive needs a v1 client'));

export function connectSsh(opts: SshConnectOptions): Promise<SshConnection> {
  if (opts.signal.aborted) return Promise.reject(new BridgeError('CLIENT_CLOSED', 'aborted during ssh setup'));
  let prepared: PreparedAuth | undefined;
  try {
    prepared = prepareAuth(opts.takeAuth());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new BridgeError('INTERNAL'));
  }
  let askFailed = (_err: unknown): void => undefined;
  const auth = authHandlerFor(opts.username, prepared, opts.askPrompt ?? NO_PROMPTS, (err) => askFailed(err));
  prepared = undefined; // only the handler holds the credentials now, until auth.dispose()
  return new Promise<SshConnection>((resolve, reject) => {
    const started = performance.now();
    const client = new ssh2.Client();
    let phase: Phase = 'connect';
    let timer: NodeJS.Timeout | undefined;
    let phaseMs = 0;
    let deadline = 0;
    let remaining = 0;
    let settled = false;
    let hostKey = '';
    let verifiedKey: Buffer | undefined;
    let afterHandshake: Promise<void> | undefined;
    let approval: HostKeyApproval | undefined;
    /** With an `afterHandshake` step: resolves once it is done; authentication waits for it. */
    let stored: Promise<void> | undefined;
    let storedNow = (): void => undefined;
    const sock: Duplex = opts.sock ?? tcpConnect({ host: opts.address, port: opts.port, noDelay: true });

    askFailed = (err) => fail(isBridgeError(err) ? err : new BridgeError('INTERNAL', 'keyboard-interactive prompt failed', { cause: err }));
    const cleanup = (): void => {
      auth.dispose();
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
    const start = (ms: number): void => {
      if (timer !== undefined) clearTimeout(timer);
      deadline = performance.now() + ms;
      timer = setTimeout(() => fail(new BridgeError(TIMEOUT_CODE[phase], `after ${phaseMs} ms`)), ms);
    };
    const arm = (next: Phase, ms: number): void => {
      phase = next;
      phaseMs = ms;
      start(ms);
    };
    /** Stop the phase clock while the host key decision is out of our hands. */
    const pause = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      remaining = Math.max(1, deadline - performance.now());
    };
    const hostVerifier = (key: Buffer, verify: (ok: boolean) => void): void => {
      if (verifiedKey !== undefined) {
        verify(key.equals(verifiedKey)); // re-key: the same key or nothing
        return;
      }
      const keyType = keyTypeOfBlob(key);
      if (keyType === null) {
        fail(new BridgeError('TARGET_UNREACHABLE', 'malformed host key'));
        return;
      }
      hostKey = sha256Fingerprint(key);
      pause();
      opts.verifyHostKey({ keyType, key, fingerprint: hostKey }).then(
        (approved) => {
          if (settled) return;
          verifiedKey = Buffer.from(key);
          approval = approved;
          if (approved.afterHandshake !== undefined) stored = new Promise((resolve) => { storedNow = resolve; });
          start(remaining);
          verify(true);
        },
        (err: unknown) => fail(isBridgeError(err) ? err : new BridgeError('INTERNAL', 'host key check failed', { cause: err })),
      );
    };
    /** The first credential goes out only once the approved key is stored (module comment). */
    const authHandler: AuthHandlerMiddleware = (left, partial, next) => {
      if (stored === undefined) {
        auth.handler(left, partial, next);
        return;
      }
      void stored.then(() => {
        if (!settled) auth.handler(left, partial, next);
      });
    };
    const onAbort = (): void => fail(new BridgeError('CLIENT_CLOSED', 'aborted during ssh setup'));
    opts.signal.addEventListener('abort', onAbort, { once: true });
    const begin = (): void => {
      if (settled) return;
      arm('handshake', opts.handshakeTimeoutMs);
      client.on('banner', opts.onBanner);
      client.once('handshake', () => {
        if (settled) return;
        arm('auth', opts.authTimeoutMs);
        // The key exchange is complete: the server signed with the key we approved.
        afterHandshake = approval?.afterHandshake?.();
        afterHandshake?.then(storedNow, (err: unknown) => fail(notStored(err)));
      });
      client.once('ready', () => {
        if (settled) return;
        const handOver = (): void => {
          if (settled) return;
          settled = true;
          cleanup();
          client.removeAllListeners('error');
          resolve({ client, setupMs: performance.now() - started, hostKey });
        };
        if (afterHandshake === undefined) handOver();
        else afterHandshake.then(handOver, (err: unknown) => fail(notStored(err)));
      });
      client.on('error', (err: Error & { level?: string }) => {
        if (err.level === 'client-authentication' && auth.noMethod()) fail(new BridgeError('SSH_NO_AUTH_METHOD', undefined, { cause: err }));
        else fail(mapSshError(err, phase));
      });
      client.once('close', () => fail(new BridgeError('TARGET_UNREACHABLE', 'connection closed during ssh setup')));
      client.connect({
        sock,
        username: opts.username,
        authHandler,
        // Our own phase timers are shorter; this only guards against a bug in them.
        readyTimeout: opts.handshakeTimeoutMs + opts.hostKeyWaitMs + opts.authTimeoutMs + 1000,
        keepaliveInterval: opts.keepaliveIntervalMs,
        keepaliveCountMax: 3,
        // No hostHash: the verifier gets the raw key blob (type + key) and may answer later.
        hostVerifier,
        ...(opts.channelWindow === undefined ? {} : { channelWindow: opts.channelWindow }),
        ...(opts.hostKeyAlgorithms === undefined ? {} : { algorithms: { serverHostKey: [...opts.hostKeyAlgorithms] as ServerHostKeyAlgorithm[] } }),
      });
    };
    if (opts.sock !== undefined) {
      begin();
      return;
    }
    arm('connect', opts.connectTimeoutMs);
    sock.once('error', (err) => {
      if (phase === 'connect') fail(mapSshError(err, phase));
    });
    sock.once('connect', begin);
  });
}
