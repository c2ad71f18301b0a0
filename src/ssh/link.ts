/**
 * One authenticated SSH connection to a session's target, and what can be opened on it: the
 * interactive shell, an SFTP channel, a `direct-tcpip` forward. A session holds one link; file
 * transfer and jump hosts open more channels on the same link instead of logging in again.
 *
 * `SshLink.open` runs the whole login (src/ssh/connect.ts: a deadline per phase) with the host
 * key policy applied here (src/ssh/host-keys.ts; what is known of the target's keys is gathered
 * before it is dialed, from the cluster too with `--cluster-redis`). Whatever the user must
 * answer goes to the caller's `LinkQuestions`: an unknown key under `tofu` (`askHostKey`), each
 * keyboard-interactive round (`askPrompt`), the server's pre-auth banner (`onBanner`). The caller
 * decides how to put them to its client and with which deadline; a client that cannot be asked
 * (`canAsk` false) never is.
 *
 * After the login, an error on the connection or its close is reported once to `onLost`, unless
 * the owner closed the link first. `close()` ends the connection politely, `destroy()` cuts it;
 * both are idempotent. Work that must still reach the server when the owner ends (an upload's
 * temporary file to remove, src/session/session-files.ts) is `hold()`: the end waits for it, at
 * most HOLD_MS.
 *
 * Window: the channels the link opens grant the server `--ssh-window` (config `sshWindow`), what
 * one slow client of the shell can make the bridge hold; SFTP and forwards get ssh2's 2 MiB back
 * once open (src/ssh/channel-window.ts says why).
 */
import type { Duplex } from 'node:stream';
import type { Client as SshClient, ClientChannel, SFTPWrapper } from 'ssh2';
import type { Config } from '../config/types.js';
import { BridgeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ResolvedTarget } from '../policy/target.js';
import type { AuthMethod } from '../protocol/types.js';
import type { AskPrompt } from './auth.js';
import { widen } from './channel-window.js';
import { connectSsh, type HostKeyApproval, type PresentedHostKey } from './connect.js';
import { mapSshError } from './errors.js';
import { decideHostKey, type HostKeyStore, type KnownServer } from './host-keys.js';
import { openShell, type PtySpec } from './shell.js';

/** How the link reaches the user during the login. */
export interface LinkQuestions {
  /** Whether the client can answer questions (a seed client cannot). */
  readonly canAsk: boolean;
  /** An unknown host key under `tofu` of the server `about` (a jump host names its hop): true to accept and store it. Rejecting ends the login. */
  readonly askHostKey: (key: PresentedHostKey, about: HostKeySubject) => Promise<boolean>;
  /** One keyboard-interactive round; rejecting ends the login. */
  readonly askPrompt: AskPrompt;
  /** The server's pre-auth banner. */
  readonly onBanner: (message: string) => void;
}

/** The longest a close or destroy waits for held work. */
export const HOLD_MS = 2000;

/** Whose host key a question is about: the server, and its jump hop (1-based) when it is one. */
export interface HostKeySubject {
  readonly host: string;
  readonly port: number;
  readonly hop?: number | undefined;
}

export type LinkConfig = Pick<Config,
  'sshConnectTimeoutMs' | 'sshHandshakeTimeoutMs' | 'sshAuthTimeoutMs' | 'sshKeepaliveIntervalMs' |
  'wsAuthTimeoutMs' | 'hostKeyPolicy' | 'compatAcceptNewHostKeys' | 'sshWindow'>;

export interface SshLinkOptions {
  readonly target: ResolvedTarget;
  readonly username: string;
  /** Hands over the credentials once (see connectSsh); the link keeps no reference to them. */
  readonly takeAuth: () => AuthMethod;
  readonly config: LinkConfig;
  readonly hostKeys: HostKeyStore;
  readonly questions: LinkQuestions;
  readonly logger: Logger;
  /** Aborting tears down whatever phase of the login is running. */
  readonly signal: AbortSignal;
  /** The connection failed or closed after the login (not called after close() or destroy()). */
  readonly onLost: (err: BridgeError) => void;
  /**
   * Through a jump host: `sock` is its `direct-tcpip` channel to `target` (from its
   * `forwardOut`), so `target` is not dialed by the bridge, and this link owns `link` (closing it
   * closes both, innermost first).
   */
  readonly through?: { readonly link: SshLink; readonly sock: Duplex } | undefined;
  /** This link is jump hop N (1-based) of a route; undefined for the session's target. */
  readonly hop?: number | undefined;
}

export class SshLink {
  /** TCP connect to authenticated, in milliseconds. */
  readonly setupMs: number;
  /** SHA256 fingerprint of the host key, as OpenSSH prints it. */
  readonly hostKey: string;
  readonly #client: SshClient;
  readonly #onLost: (err: BridgeError) => void;
  readonly #through: SshLink | null;
  #closed = false;
  /** Work the end waits for (see hold()). */
  readonly #holds = new Set<Promise<unknown>>();

  /** Log in to the target; rejects with a BridgeError (timeouts, auth, host key, unreachable). */
  static async open(opts: SshLinkOptions): Promise<SshLink> {
    const { config, target } = opts;
    const known = await knownServer(opts);
    const conn = await connectSsh({
      sock: opts.through?.sock,
      address: target.address, port: target.port, username: opts.username, takeAuth: opts.takeAuth,
      // A jump host's rounds say which hop asks.
      askPrompt: opts.hop === undefined ? opts.questions.askPrompt : (round) => opts.questions.askPrompt({ ...round, hop: opts.hop }),
      onBanner: opts.questions.onBanner, signal: opts.signal,
      connectTimeoutMs: config.sshConnectTimeoutMs, handshakeTimeoutMs: config.sshHandshakeTimeoutMs,
      authTimeoutMs: config.sshAuthTimeoutMs, keepaliveIntervalMs: config.sshKeepaliveIntervalMs,
      verifyHostKey: (key) => verifyHostKey(opts, known, key), hostKeyWaitMs: config.wsAuthTimeoutMs,
      hostKeyAlgorithms: known.preferredAlgorithms(), channelWindow: config.sshWindow,
    });
    return new SshLink(conn.client, conn.setupMs, conn.hostKey, opts.onLost, opts.through?.link ?? null);
  }

  private constructor(client: SshClient, setupMs: number, hostKey: string, onLost: (err: BridgeError) => void, through: SshLink | null) {
    this.#client = client;
    this.#through = through;
    this.setupMs = setupMs;
    this.hostKey = hostKey;
    this.#onLost = onLost;
    client.on('error', (err) => this.#lose(mapSshError(err, 'active')));
    client.on('close', () => this.#lose(new BridgeError('SSH_CONNECTION_LOST', 'ssh connection closed')));
  }

  #lose(err: BridgeError): void {
    if (!this.#closed) this.#onLost(err);
  }

  /** The interactive shell with a PTY (CHANNEL_FAILED when the server refuses it). */
  openShell(pty: PtySpec): Promise<ClientChannel> {
    return openShell(this.#client, pty);
  }

  /** An SFTP channel (CHANNEL_FAILED when the server has no SFTP subsystem or refuses it). */
  openSftp(): Promise<SFTPWrapper> {
    return new Promise((resolve, reject) => {
      this.#client.sftp((err, sftp) => {
        if (err !== undefined && err !== null) reject(new BridgeError('CHANNEL_FAILED', 'sftp', { cause: err }));
        else {
          widen(sftp); // its requests bound what the server sends (src/ssh/channel-window.ts)
          resolve(sftp);
        }
      });
    });
  }

  /**
   * A `direct-tcpip` channel from the target to `host:port` (TARGET_UNREACHABLE when the server
   * refuses the forward or cannot connect). `from` is what the server is told the origin is.
   */
  forwardOut(host: string, port: number, from: { readonly address: string; readonly port: number } = { address: '127.0.0.1', port: 0 }): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      this.#client.forwardOut(from.address, from.port, host, port, (err, channel) => {
        if (err !== undefined && err !== null) reject(new BridgeError('TARGET_UNREACHABLE', `forward to ${host}:${port} refused: ${err.message}`.slice(0, 200), { cause: err }));
        else {
          widen(channel); // carries a whole SSH connection, read at once (src/ssh/channel-window.ts)
          resolve(channel);
        }
      });
    });
  }

  /** Let `work` (requests already written on a channel) finish before the connection ends. */
  hold(work: Promise<unknown>): void {
    this.#holds.add(work);
    // Settled either way; a rejection of `work` is its owner's to handle, never an unhandled one here.
    const done = (): void => {
      this.#holds.delete(work);
    };
    work.then(done, done);
  }

  /** End the connection politely; later errors and the close are no longer reported. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.removeAllListeners('close');
    this.#client.removeAllListeners('error');
    this.#client.on('error', () => undefined);
    // The jump host after the connection through it (innermost first).
    this.#afterHolds(() => {
      this.#client.end();
      this.#through?.close();
    });
  }

  /** Cut the connection now (after close(), or instead of it), once held work is done. Idempotent. */
  destroy(): void {
    this.close();
    this.#afterHolds(() => {
      this.#client.destroy();
      this.#through?.destroy();
    });
  }

  /** `end` now, or once the held work settles (HOLD_MS at most). */
  #afterHolds(end: () => void): void {
    if (this.#holds.size === 0) {
      end();
      return;
    }
    const timer = setTimeout(end, HOLD_MS);
    void Promise.allSettled([...this.#holds]).then(() => {
      clearTimeout(timer);
      end(); // ending twice is harmless (ssh2 ignores an end or destroy after the first)
    });
  }
}

/**
 * What is known of the target's host keys, before it is dialed (with a cluster, the cluster's
 * keys too). A cluster that must be asked and does not answer refuses the login here
 * (CLUSTER_UNAVAILABLE), before any connection to the target; except under
 * `accept-new-insecure`, which accepts unknown keys anyway: it goes on with the node's own files
 * (the key is then checked against them only), with a warning.
 */
async function knownServer(opts: SshLinkOptions): Promise<KnownServer> {
  const { target, logger } = opts;
  const about = { target: `${target.host}:${target.port}`, address: target.key };
  try {
    return await opts.hostKeys.server(target.host, target.port, target.address);
  } catch (err) {
    if (!(err instanceof BridgeError)) throw err;
    if (err.code === 'CLUSTER_UNAVAILABLE' && opts.config.hostKeyPolicy === 'accept-new-insecure') {
      logger.warn({ event: 'host_keys_cluster_skipped', ...about, reason: err.detail }, 'the cluster\'s host keys could not be asked: the key is checked against this node\'s files only (host-key-policy accept-new-insecure)');
      return opts.hostKeys.localServer(target.host, target.port, target.address);
    }
    logger.warn({ event: 'host_key_refused', code: err.code, ...about, reason: err.detail }, 'host key cannot be checked');
    throw err;
  }
}

/** The host key policy for the link's target (see src/ssh/host-keys.ts); logs every decision. */
async function verifyHostKey(opts: SshLinkOptions, known: KnownServer, k: PresentedHostKey): Promise<HostKeyApproval> {
  const { config, target, hostKeys, questions, logger } = opts;
  const verdict = known.verify(k.keyType, k.key);
  const decision = decideHostKey(verdict, {
    policy: config.hostKeyPolicy, canAsk: questions.canAsk, compatAcceptNew: config.compatAcceptNewHostKeys,
    keyType: k.keyType, fingerprint: k.fingerprint,
  });
  const about = { target: `${target.host}:${target.port}`, address: target.key, key_type: k.keyType, fingerprint: k.fingerprint, via: verdict.via };
  const store = (): HostKeyApproval => ({
    afterHandshake: async () => {
      try {
        await hostKeys.accept(target.host, target.port, k.keyType, k.key);
      } catch (err) {
        // Stored meanwhile by another process or node, refused by the cluster, or the cluster did not answer: nothing was stored.
        if (err instanceof BridgeError) logger.warn({ event: 'host_key_refused', code: err.code, ...about, reason: err.detail }, 'accepted host key not stored');
        throw err;
      }
    },
  });
  switch (decision.action) {
    case 'refuse': {
      const stored = verdict.status === 'mismatch' ? verdict.stored : verdict.status === 'unknown' ? verdict.otherTypes : [];
      logger.warn({ event: 'host_key_refused', code: decision.error.code, ...about, stored: stored.map((s) => ({ fingerprint: s.fingerprint, key_type: s.keyType, file: s.source, line: s.line })) }, 'host key refused');
      throw decision.error;
    }
    case 'accept':
      if (decision.why === 'insecure') logger.warn({ event: 'host_key_unverified', ...about }, 'unknown host key accepted without verification (host-key-policy accept-new-insecure)');
      if (decision.why === 'compat') logger.info({ event: 'host_key_accepted', answer: 'compat', ...about }, 'unknown host key accepted for a seed client (compat-accept-new-host-keys)');
      return decision.store ? store() : {};
    case 'ask': {
      const accepted = await questions.askHostKey(k, { host: target.host, port: target.port, hop: opts.hop });
      logger.info({ event: 'host_key_accepted', answer: accepted ? 'accept' : 'reject', ...about }, accepted ? 'host key accepted by the user' : 'host key rejected by the user');
      if (!accepted) throw new BridgeError('HOST_KEY_REJECTED', 'rejected by the user');
      return store();
    }
  }
}
