/**
 * A session's file transfer (docs/protocol.md#files): what the session owns of it, kept out of
 * BridgeSession. The SFTP channel is a second channel on the session's own SSH link, opened on
 * the first file request and kept until the session ends (FILES_UNAVAILABLE when the server has
 * no SFTP subsystem). The session's v1 owner socket asks for a file token (`files`); a viewer
 * has no such socket, and a seed client no such message, so neither ever gets one.
 *
 * It holds, each bounded: the transfers running (at most `files-max-transfers`, FILES_BUSY past
 * it), the download links minted and not yet used (at most MAX_LINKS; a link is burnt on its
 * first use), and the temporary files of the uploads running. `dispose()` (the session's close)
 * aborts every transfer, asks the server to remove every temporary file (the link holds its
 * end until they are answered: SshLink.hold), and closes the channel. No timers; a channel still
 * opening when the session ends is closed as it arrives.
 */
import { randomBytes } from 'node:crypto';
import type { Keyring } from '../auth/keyring.js';
import type { Config } from '../config/types.js';
import { BridgeError, errorMessage } from '../errors.js';
import type { OwnerId } from '../grammar/owner-id.js';
import type { Logger } from '../log.js';
import type { ServerControl } from '../protocol/types.js';
import type { SshLink } from '../ssh/link.js';
import { SftpFiles } from '../ssh/sftp.js';
import { makeFilesToken } from './files-token.js';

/** Download links of one session not yet used: past this many, the oldest goes. */
export const MAX_LINKS = 64;
/** A download link's lifetime. */
export const LINK_TTL_MS = 60_000;

export type FilesConfig = Pick<Config, 'filesEnabled' | 'filesMaxTransfers' | 'filesTokenTtlMs' | 'filesUploadSubjects'>;

export interface SessionFilesInit {
  readonly sessionId: string;
  readonly owner: OwnerId;
  /** Signs the session's file tokens (./files-token.ts): its current `share` key at each signature. */
  readonly keyring: Pick<Keyring, 'current'>;
  readonly config: FilesConfig;
  /** The session's identity may change files (auth/identity.ts `mayWriteFiles`): the `files-token` answer says so. */
  readonly mayWrite: boolean;
  /** The session's link once logged in (undefined before, and after the end). */
  readonly link: () => SshLink | undefined;
  /**
   * Aborted when the session begins to close, before it closes the link: dispose() runs then,
   * so the temporary files' removal goes out on the link ahead of its close.
   */
  readonly ended: AbortSignal;
  readonly send: (msg: ServerControl) => void;
  /** A marker in the session's recording, when it is recorded. */
  readonly mark: (text: string) => void;
  readonly logger: Logger;
}

/** One transfer's audit line (`file_transfer`). */
export interface TransferRecord {
  readonly direction: 'upload' | 'download';
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** `ok`, or the catalogue code it ended with. */
  readonly result: string;
}

export class SessionFiles {
  readonly #init: SessionFilesInit;
  readonly #abort = new AbortController();
  #sftp: Promise<SftpFiles> | undefined;
  /** The channel once open: dispose() must reach it synchronously, before the session closes the link. */
  #files: SftpFiles | undefined;
  #running = 0;
  /** Download link nonce -> expiry (insertion order: the oldest first). */
  readonly #links = new Map<string, number>();
  readonly #temps = new Set<string>();

  constructor(init: SessionFilesInit) {
    this.#init = init;
    init.ended.addEventListener('abort', () => this.dispose(), { once: true });
  }

  /** Whether the session may change files: what its `files-token` answer says, and what api/files checks. */
  get mayWrite(): boolean {
    return this.#init.mayWrite;
  }

  /** Aborted when the session ends: every transfer's streams stop. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Answer the owner's `files`: a token, or why not (the session goes on either way). */
  offer(): void {
    const { config, sessionId, owner, send } = this.#init;
    if (!config.filesEnabled) {
      send({ type: 'files-refused', code: 'FILES_DISABLED', message: errorMessage('FILES_DISABLED') });
      return;
    }
    const token = makeFilesToken(this.#init.keyring, { owner, kind: 'files', sessionId, expiresAt: Date.now() + config.filesTokenTtlMs });
    send({ type: 'files-token', token, expiresInMs: config.filesTokenTtlMs, write: this.#init.mayWrite });
  }

  /** The session's SFTP channel, opened on first use and kept. */
  sftp(): Promise<SftpFiles> {
    const link = this.#init.link();
    if (this.#abort.signal.aborted || link === undefined) return Promise.reject(new BridgeError('FILES_TOKEN_INVALID', 'the session ended'));
    this.#sftp ??= link.openSftp().then(
      (sftp) => {
        if (!this.#abort.signal.aborted) {
          const files = new SftpFiles(sftp);
          // A channel the server closed is not kept: the next request opens a new one.
          sftp.once('close', () => {
            if (this.#files !== files) return;
            this.#files = undefined;
            this.#sftp = undefined;
          });
          return (this.#files = files);
        }
        sftp.end();
        throw new BridgeError('FILES_TOKEN_INVALID', 'the session ended');
      },
      (err: unknown) => {
        this.#sftp = undefined; // a later request may try again
        throw new BridgeError('FILES_UNAVAILABLE', undefined, { cause: err });
      },
    );
    return this.#sftp;
  }

  /** Take a transfer slot; the function given back releases it (once). */
  begin(): () => void {
    if (this.#running >= this.#init.config.filesMaxTransfers) throw new BridgeError('FILES_BUSY', `at most ${this.#init.config.filesMaxTransfers}`);
    this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
    };
  }

  /** A single-use download link for `path`. */
  link(path: string): { token: string; expiresInMs: number } {
    const now = Date.now();
    for (const [nonce, expires] of this.#links) if (expires <= now) this.#links.delete(nonce);
    const oldest = this.#links.keys().next();
    if (this.#links.size >= MAX_LINKS && oldest.done !== true) this.#links.delete(oldest.value);
    const nonce = randomBytes(16).toString('base64url');
    this.#links.set(nonce, now + LINK_TTL_MS);
    const token = makeFilesToken(this.#init.keyring, { owner: this.#init.owner, kind: 'download', sessionId: this.#init.sessionId, expiresAt: now + LINK_TTL_MS, nonce, path });
    return { token, expiresInMs: LINK_TTL_MS };
  }

  /** Burn a download link's nonce: true the first time, while it is live. */
  redeem(nonce: string): boolean {
    const expires = this.#links.get(nonce);
    this.#links.delete(nonce);
    return expires !== undefined && expires > Date.now();
  }

  /** Keep track of an upload's temporary file (`path`), or that it is gone (null after `path`). */
  temp(path: string | null, previous: string | null): void {
    if (previous !== null) this.#temps.delete(previous);
    if (path !== null) this.#temps.add(path);
  }

  /** The audit line and the recording marker of one transfer. Never the token. */
  record(r: TransferRecord, who: { readonly clientIp: string; readonly subject: string; readonly username: string; readonly target: string }): void {
    this.#init.logger.info({ event: 'file_transfer', client_ip: who.clientIp, subject: who.subject, username: who.username, target: who.target, direction: r.direction, path: r.path, bytes: r.bytes, sha256: r.sha256, result: r.result }, 'file transfer');
    this.#init.mark(`file ${r.direction} ${r.result}: ${r.path} (${r.bytes} bytes, sha256 ${r.sha256})`);
  }

  /** The session ends (`ended`): abort the transfers, remove their temporary files, close the channel. Idempotent. */
  dispose(): void {
    if (this.#abort.signal.aborted) return;
    this.#abort.abort();
    this.#links.clear();
    // The removals go out on the channel now; the link holds its end until they are answered.
    const files = this.#files;
    if (files === undefined) return;
    const removed = Promise.allSettled([...this.#temps].map((t) => files.discard(t))).then(() => files.end());
    this.#temps.clear();
    this.#init.link()?.hold(removed);
  }
}
