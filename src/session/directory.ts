/**
 * The sessions this process holds, and how a request finds one: by id (a share link names its
 * session), or by its resume token, which is single use (taking it burns it). The directory also
 * holds what this process's tokens are made with: its owner id, the prefix of every resume token
 * and share link it issues (src/grammar/owner-id.ts), and the keyring that signs and checks its
 * share links and file tokens (src/auth/keyring.ts).
 *
 * Resume tokens: a session has at most one live token; issuing a new one (on `ready` and on each
 * resume) retires the one before, and so does the session's end. Only a SHA-256 of a token is
 * kept, so a lookup compares hashes, never the secret itself. Pure bookkeeping: no timers, no
 * sockets.
 */
import { randomKeyring, type Keyring } from '../auth/keyring.js';
import type { OwnerId } from '../grammar/owner-id.js';
import { hashResumeToken, makeResumeToken } from './resume-token.js';

/** Told of every resume token's life (only its SHA-256): the cluster's owner registry publishes them. */
export interface TokenObserver {
  issued(hash: string, owner: OwnerId): void;
  retired(hash: string): void;
}

export class SessionDirectory<S extends { readonly id: string }> {
  /** The owner this process's tokens name (this worker; "0" in a single process). */
  readonly owner: OwnerId;
  /**
   * Signs and checks share links and file tokens: random per start on a gateway of one node (a
   * restart ends every session anyway), the cluster's keyring file otherwise. Asked at each use,
   * so a reloaded keyring takes effect at the next link or token.
   */
  readonly keyring: Keyring;
  readonly #sessions = new Map<string, S>();
  /** Token hash -> session, and each session's live token hash. */
  readonly #byToken = new Map<string, S>();
  readonly #tokenOf = new Map<string, string>();
  #observer: TokenObserver | undefined;

  constructor(owner: OwnerId, keyring: Keyring = randomKeyring()) {
    this.owner = owner;
    this.keyring = keyring;
  }

  /** Tell `observer` of every token issued and retired from now on. */
  observe(observer: TokenObserver): void {
    this.#observer = observer;
  }

  get size(): number {
    return this.#sessions.size;
  }

  add(session: S): void {
    this.#sessions.set(session.id, session);
  }

  /** The session has ended: it can no longer be found, and its token stops working. */
  remove(session: S): void {
    this.#sessions.delete(session.id);
    this.#forget(session.id);
  }

  /** A live session of this process by id. */
  find(id: string): S | undefined {
    return this.#sessions.get(id);
  }

  /** Every live session of this process (stats, the idle reaper, drain). */
  sessions(): IterableIterator<S> {
    return this.#sessions.values();
  }

  /** A new single-use resume token for `session`; its previous token stops working. */
  issue(session: S): string {
    this.#forget(session.id);
    const token = makeResumeToken(this.owner);
    const hash = hashResumeToken(token);
    this.#byToken.set(hash, session);
    this.#tokenOf.set(session.id, hash);
    this.#observer?.issued(hash, this.owner);
    return token;
  }

  /**
   * The session a resume token belongs to, or undefined. The token is burnt either way (single
   * use): the session's next token comes with `resumed`.
   */
  take(token: string): S | undefined {
    const session = this.#byToken.get(hashResumeToken(token));
    if (session === undefined) return undefined;
    this.#forget(session.id);
    return session;
  }

  #forget(sessionId: string): void {
    const hash = this.#tokenOf.get(sessionId);
    if (hash === undefined) return;
    this.#byToken.delete(hash);
    this.#tokenOf.delete(sessionId);
    this.#observer?.retired(hash);
  }
}
