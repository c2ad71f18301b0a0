/**
 * What a BridgeSession is made with (SessionInit) and what it tells its owner (SessionHooks,
 * SessionSummary): the session's contract with the ConnectionManager.
 */
import type { Identity } from '../auth/identity.js';
import type { Keyring } from '../auth/keyring.js';
import type { WebSocket } from 'ws';
import type { Config } from '../config/types.js';
import type { ShareControlInit } from '../share/share-control.js';
import type { LinkConfig } from '../ssh/link.js';
import type { SocketTiming } from './socket-binding.js';
import type { FilesConfig } from './session-files.js';
import type { ErrorCode } from '../errors.js';
import type { OwnerId } from '../grammar/owner-id.js';
import type { Logger } from '../log.js';
import type { JumpRoute } from '../policy/route.js';
import type { ResolvedTarget } from '../policy/target.js';
import type { Codec, ErrorNotice } from '../protocol/types.js';
import type { Recorder } from '../record/recorder.js';
import type { HostKeyStore } from '../ssh/host-keys.js';
import type { BridgeSession } from './bridge-session.js';

export interface SessionHooks {
  observeTransition(from: string, to: string, msInFrom: number): void;
  observeHandshake(ms: number): void;
  onActive(session: BridgeSession): void;
  onBytes(direction: 'to_ssh' | 'to_client', n: number): void;
  onPause(direction: 'ssh_output' | 'client_input'): void;
  /**
   * The session has begun to close (its error message and close frame go out next): its slot can
   * go back now, so a client that starts a new session as soon as it hears this one end is not
   * refused by the slot of the session it just left. Called once, before onEnd.
   */
  onClosing(session: BridgeSession): void;
  onEnd(session: BridgeSession, summary: SessionSummary): void;
  /**
   * The SSH server refused the login (SSH_AUTH_FAILED): count it towards the client's ban before
   * the session says so, and resolve with what its `error` message adds (the attempts left; empty
   * when there is nothing to say or the count could not be had). Never rejects.
   */
  onAuthFailure(session: BridgeSession): Promise<ErrorNotice>;
  /** A new single-use resume token for this session (the previous one stops working). */
  issueResumeToken(session: BridgeSession): string;
  /** A client resumed the session. */
  onResumed(): void;
}

export interface SessionSummary {
  readonly id: string;
  readonly code: ErrorCode;
  readonly closeCode: number;
  readonly reachedActive: boolean;
  readonly durationMs: number;
}

/** What a session reads of the configuration (its link's, its socket's and its share links' too). */
export type SessionConfig = LinkConfig & SocketTiming & ShareControlInit['config'] & FilesConfig &
  Pick<Config, 'wsAuthTimeoutMs' | 'resumeGraceMs' | 'resumeBuffer' | 'connTimeoutMs'>;

export interface SessionInit {
  readonly id: string;
  readonly ws: WebSocket;
  readonly codec: Codec;
  readonly target: ResolvedTarget;
  /** The jump hosts on the way to `target` (src/policy/route.ts); null: the bridge dials `target`. */
  readonly jump: JumpRoute | null;
  readonly clientIp: string;
  /** Who bridge authentication says this is (ANONYMOUS when it is off). */
  readonly identity: Identity;
  readonly config: SessionConfig;
  readonly logger: Logger;
  readonly hooks: SessionHooks;
  /** The App's host key store (one per App, shared by all sessions). */
  readonly hostKeys: HostKeyStore;
  /** The App's session recorder; null when --record-dir is not set. */
  readonly recorder: Recorder | null;
  /** The keyring that signs share links and file tokens, and the owner id they carry (one per manager). */
  readonly share: { readonly keyring: Keyring; readonly owner: OwnerId };
}
