/**
 * ConnectionManager: admission, registry, statistics, the idle reaper and drain.
 *
 * Decisions that must be exact for the whole gateway (rate limit, ban, session limits, tickets)
 * belong to the Gatekeeper, reached through a Gate: in this process by default, in the cluster
 * primary under --workers. Its grant checks every limit and counts the new connection in the
 * same step, so concurrent upgrades cannot overshoot (the seed checked, then registered). The
 * returned Lease holds the slot until its session ends or the upgrade fails. The slots are counted
 * once, by the Gatekeeper's ledger; the manager itself keeps this process's sessions and their
 * statistics.
 */
import { randomBytes } from 'node:crypto';
import type { Keyring } from '../auth/keyring.js';
import type { Config } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import { workerOwner, type OwnerId } from '../grammar/owner-id.js';
import type { Logger } from '../log.js';
import type { Recorder } from '../record/recorder.js';
import { BridgeSession } from '../session/bridge-session.js';
import { SessionDirectory } from '../session/directory.js';
import type { SessionHooks, SessionInit, SessionSummary } from '../session/session-init.js';
import { SessionState } from '../session/state.js';
import { HostKeyStore } from '../ssh/host-keys.js';
import { gateSnapshot, type Gate, type GateSnapshot } from './gate.js';
import { Gatekeeper } from './gatekeeper.js';
import { sharedHostKeys } from './host-keys.js';
import type { GrantResult } from './ledger.js';
import type { ManagerStats } from './stats.js';
import { Tally } from './tally.js';
import { settledWithin } from '../util/settle.js';
import { idleStep, warningLeadMs } from '../policy/idle.js';
import { attemptsNotice } from '../policy/login-attempts.js';
import type { ErrorNotice } from '../protocol/types.js';

export interface Observers {
  observeTransition(from: string, to: string, msInFrom: number): void;
  observeHandshake(ms: number): void;
  observeSessionEnd(seconds: number): void;
  /** A Redis command of cluster admission: its name, latency, and whether it answered. */
  observeRedisCommand?(command: string, seconds: number, ok: boolean): void;
}

/** A slot held by this process: one grant of the ledger. */
export interface Lease {
  readonly clientIp: string;
  readonly targetKey: string;
  /** Give the slot back when no session was created (upgrade failed). Idempotent. */
  release(): void;
}

export type AdmitResult = { readonly ok: true; readonly admission: Lease } | { readonly ok: false; readonly code: ErrorCode };

export class ConnectionManager {
  /** Known host keys and the host key policy's store: one per manager, so one per App. */
  readonly hostKeys: HostKeyStore;
  /** Session recording (--record-dir); null when off. */
  readonly recorder: Recorder | null;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #observers: Observers;
  /** The admission authority (local, or the cluster primary's). */
  readonly gate: Gate;
  /** The authority when it is in this process (no gate was given): its ledger is read without waiting. */
  readonly #keeper: Gatekeeper | undefined;
  /** This process's sessions, found by id or resume token; the owner id and keyring of its tokens. */
  readonly directory: SessionDirectory<BridgeSession>;
  readonly #outcomes = new Tally();
  /** Sessions that reached ACTIVE, by route kind. */
  readonly #routes = new Tally();
  readonly #rejections = new Tally();
  readonly #reaper: NodeJS.Timeout | undefined;
  /** How long before an idle close a v1 client is warned (0: never). */
  readonly #idleLeadMs: number;
  /** Names this process's grants: an id per grant, never reused. */
  #grants = 0;
  #total = 0;
  #successful = 0;
  #failed = 0;
  #bytesToSsh = 0;
  #bytesToClient = 0;
  #pausesOutput = 0;
  #pausesInput = 0;
  /** A stop has begun (its ready delay included): not ready. */
  #leaving = false;
  /** New sessions are refused (DRAINING): the drain proper. */
  #draining = false;
  #resumes = 0;

  /**
   * `hostKeys` defaults to the store the config describes, loaded now (a known_hosts file that
   * exists but cannot be read throws, stopping the start), with the gate's host keys as the
   * cluster's under `--cluster-redis`. `gate` defaults to a Gatekeeper in
   * this process. `recorder` (built by the App, which checks the directory) records sessions.
   * `owner` names this process in its tokens (worker 0 by default: a single process); `keyring`
   * signs and checks its share links and file tokens (random keys of this process by default).
   */
  constructor(config: Config, logger: Logger, observers: Observers, opts: { hostKeys?: HostKeyStore; gate?: Gate; recorder?: Recorder | null; owner?: OwnerId; keyring?: Keyring } = {}) {
    this.directory = new SessionDirectory(opts.owner ?? workerOwner(0), opts.keyring);
    this.#config = config;
    this.#log = logger;
    this.#observers = observers;
    if (opts.gate === undefined) {
      this.#keeper = new Gatekeeper(config, logger, (command, seconds, ok) => observers.observeRedisCommand?.(command, seconds, ok));
      this.gate = this.#keeper.gate(this.directory.owner);
    } else {
      this.gate = opts.gate;
    }
    // With a cluster, the keys accepted on any node are asked of the gate (Redis, through whichever process holds it).
    this.hostKeys = opts.hostKeys ?? HostKeyStore.fromConfig(config, logger, config.clusterRedis === null ? undefined : sharedHostKeys(this.gate.hostKeys));
    // Other nodes find this node's sessions by their resume tokens only when they can relay here.
    if (config.nodeRelayAddress !== null) {
      const owners = this.gate.owners;
      this.directory.observe({
        issued: (hash, owner) => owners.tell('publishToken', { hash, owner }),
        retired: (hash) => owners.tell('retireToken', { hash }),
      });
    }
    this.recorder = opts.recorder ?? null;
    const idle = config.sessionIdleTimeoutMs;
    this.#idleLeadMs = warningLeadMs(idle, config.sessionIdleWarningMs);
    if (idle > 0) {
      const finest = this.#idleLeadMs > 0 ? this.#idleLeadMs : idle;
      this.#reaper = setInterval(() => this.#reap(), Math.min(5000, Math.max(50, Math.floor(finest / 4))));
      this.#reaper.unref();
    }
  }

  /** New sessions are refused (`DRAINING`): the drain has begun. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * A stop has begun, the ready delay included: /readyz answers 503 and /health says `draining`,
   * while new sessions may still be admitted until the drain itself begins.
   */
  get leaving(): boolean {
    return this.#leaving;
  }

  /** The first step of a stop: not ready any more, still admitting and serving. Idempotent. */
  leave(): void {
    this.#leaving = true;
  }

  /**
   * A refused SSH login, counted by the gate before the session's error goes out: what that error
   * says of the ban (src/policy/login-attempts.ts); nothing when the gate cannot answer.
   */
  async #sshAuthFailed(clientIp: string): Promise<ErrorNotice> {
    try {
      return attemptsNotice(await this.gate.abuse.ask('authFailure', { clientIp, kind: 'ssh' }));
    } catch (err) {
      this.#log.warn({ err: err instanceof Error ? err.message : String(err), client_ip: clientIp }, 'no answer from the gate about a failed login (it may not have been counted)');
      return {};
    }
  }

  /** Count a refusal that happened before a session existed. */
  reject(code: ErrorCode): void {
    this.#rejections.add(code);
  }

  /** Take a slot from the gate: every limit checked and counted in one step, by the gate alone. */
  async admit(clientIp: string, targetKey: string): Promise<AdmitResult> {
    let code: ErrorCode | undefined;
    let granted: string | undefined;
    if (this.#draining) {
      code = 'DRAINING';
    } else {
      const grantId = (++this.#grants).toString(36);
      const result = await this.#grant(clientIp, targetKey, grantId);
      if (!result.ok) code = result.code;
      else granted = grantId;
      // Drain may have begun while the gate answered: hand the slot straight back.
      if (granted !== undefined && this.#draining) {
        this.#release(granted);
        granted = undefined;
        code = 'DRAINING';
      }
    }
    if (granted === undefined) {
      code ??= 'INTERNAL';
      this.reject(code);
      return { ok: false, code };
    }
    const id = granted;
    let released = false;
    return {
      ok: true,
      admission: {
        clientIp, targetKey,
        release: () => {
          if (released) return;
          released = true;
          this.#release(id);
        },
      },
    };
  }

  /**
   * If the answer is lost (a cluster request timed out, the primary was slow) the slot may still
   * have been taken: releasing its id frees it (release is idempotent, and the gate hears requests
   * in order, so the release comes after the grant).
   */
  async #grant(clientIp: string, targetKey: string, grantId: string): Promise<GrantResult> {
    try {
      return await this.gate.admission.ask('grant', { clientIp, targetKey, grantId });
    } catch (err) {
      this.#release(grantId);
      throw err;
    }
  }

  #release(grantId: string): void {
    this.gate.admission.tell('release', { grantId });
  }

  /** Turn an admission into a live session; the session returns the slot when it ends. */
  startSession(admission: Lease, init: Omit<SessionInit, 'id' | 'hooks' | 'config' | 'logger' | 'hostKeys' | 'recorder' | 'share'>): BridgeSession {
    const hooks: SessionHooks = {
      observeTransition: (from, to, ms) => this.#observers.observeTransition(from, to, ms),
      observeHandshake: (ms) => this.#observers.observeHandshake(ms),
      onActive: (session) => {
        this.#successful++;
        this.#routes.add(session.route.kind);
        this.gate.abuse.tell('authSuccess', { clientIp: session.clientIp });
      },
      onBytes: (direction, n) => {
        if (direction === 'to_ssh') this.#bytesToSsh += n;
        else this.#bytesToClient += n;
      },
      onPause: (direction) => {
        if (direction === 'ssh_output') this.#pausesOutput++;
        else this.#pausesInput++;
      },
      onClosing: () => admission.release(),
      onEnd: (session, summary) => this.#ended(session, summary, admission),
      onAuthFailure: (session) => this.#sshAuthFailed(session.clientIp),
      issueResumeToken: (session) => this.directory.issue(session),
      onResumed: () => {
        this.#resumes++;
      },
    };
    const id = randomBytes(16).toString('hex');
    const { directory } = this;
    const session = new BridgeSession({ ...init, id, hooks, config: this.#config, logger: this.#log, hostKeys: this.hostKeys, recorder: this.recorder, share: { keyring: directory.keyring, owner: directory.owner } });
    directory.add(session);
    this.#total++;
    return session;
  }

  #ended(session: BridgeSession, summary: SessionSummary, admission: Lease): void {
    this.directory.remove(session);
    admission.release();
    if (!summary.reachedActive) this.#failed++;
    this.#outcomes.add(summary.code);
    this.#observers.observeSessionEnd(summary.durationMs / 1000);
  }

  /** The idle rule (src/policy/idle.ts) for every attached session: warn, then close. */
  #reap(): void {
    const now = Date.now();
    const timeoutMs = this.#config.sessionIdleTimeoutMs;
    for (const session of this.directory.sessions()) {
      if (session.state !== SessionState.ACTIVE) continue;
      const step = idleStep(now - session.activity.last, timeoutMs, this.#idleLeadMs, session.activity.warned);
      if (step.kind === 'warn') {
        session.activity.warn(step.closesInMs);
      } else if (step.kind === 'close') {
        this.#log.info({ session: session.id }, 'idle timeout');
        void session.close('IDLE_TIMEOUT', `no activity for ${timeoutMs} ms`);
      }
    }
  }

  get size(): number {
    return this.directory.size;
  }

  stats(): ManagerStats {
    let detached = 0;
    let viewers = 0;
    let buffered = 0;
    let bufferedMax = 0;
    for (const s of this.directory.sessions()) {
      if (s.state === SessionState.DETACHED) detached++;
      viewers += s.viewerCount;
      const held = s.bufferedBytes;
      buffered += held;
      if (held > bufferedMax) bufferedMax = held;
    }
    const slots = this.#keeper?.localSlots();
    const cluster = this.#keeper?.clusterStats();
    return {
      ...(slots === undefined ? {} : { active: slots.open, perClient: slots.perClient, perTarget: slots.perTarget }),
      ...(cluster === undefined ? {} : { cluster }),
      detached, viewers, resumes: this.#resumes, total: this.#total, successful: this.#successful, failed: this.#failed,
      routes: this.#routes.snapshot(), outcomes: this.#outcomes.snapshot(), rejections: this.#rejections.snapshot(),
      bytesToSsh: this.#bytesToSsh, bytesToClient: this.#bytesToClient, buffered, bufferedMax,
      pausesSshOutput: this.#pausesOutput, pausesClientInput: this.#pausesInput,
      draining: this.#leaving,
    };
  }

  /** The authority's state: slots, rate limiter, bans, outstanding tickets (for /stats). */
  gateSnapshot(): Promise<GateSnapshot> {
    return gateSnapshot(this.gate);
  }

  sessionStats(): Array<Record<string, unknown>> {
    return [...this.directory.sessions()].map((s) => s.getStats());
  }

  /**
   * Stop admitting, tell every client (1001; 1012 RESTARTING to a resumable one, which cannot
   * follow its SSH session to another process), wait for them to go up to `timeoutMs`, then cut
   * whatever is left. Resolves when no session remains.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#leaving = true;
    this.#draining = true;
    this.stopReaper();
    const closing = [...this.directory.sessions()].map((s) => s.close(s.resumable ? 'RESTARTING' : 'SHUTDOWN'));
    if (await settledWithin(closing, timeoutMs)) {
      this.#log.warn({ remaining: this.directory.size }, 'shutdown timeout: destroying remaining sessions');
      for (const s of this.directory.sessions()) s.destroy('SHUTDOWN');
      await Promise.allSettled(closing);
    }
  }

  stopReaper(): void {
    if (this.#reaper !== undefined) clearInterval(this.#reaper);
  }
}
