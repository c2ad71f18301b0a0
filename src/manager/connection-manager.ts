/**
 * ConnectionManager: admission, registry, statistics, the idle reaper and drain.
 *
 * Admission is one synchronous call that checks every limit and counts the new connection in the
 * same step, so concurrent upgrades cannot overshoot (the seed checked, then registered). The
 * returned Admission holds the slot until its session ends or the upgrade fails.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { CidrSet } from '../policy/cidr.js';
import { BridgeSession, type SessionHooks, type SessionInit, type SessionSummary } from '../session/bridge-session.js';
import { SessionState } from '../session/state.js';
import { HostKeyStore } from '../ssh/host-keys.js';
import { AuthBan } from './auth-ban.js';
import { RateLimiter } from './rate-limiter.js';
import type { ManagerStats } from './stats.js';
import { Tally } from './tally.js';

export interface Observers {
  observeTransition(from: string, to: string, msInFrom: number): void;
  observeHandshake(ms: number): void;
  observeSessionEnd(seconds: number): void;
}

export interface Admission {
  readonly clientIp: string;
  readonly targetKey: string;
  /** Give the slot back when no session was created (upgrade failed). Idempotent. */
  release(): void;
}

export type AdmitResult = { readonly ok: true; readonly admission: Admission } | { readonly ok: false; readonly code: ErrorCode };

export class ConnectionManager {
  /** Known host keys and the host key policy's store: one per manager, so one per App. */
  readonly hostKeys: HostKeyStore;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #observers: Observers;
  readonly #limiter: RateLimiter;
  /** Absent when auth-ban-failures is 0. */
  readonly #ban: AuthBan | undefined;
  readonly #sessions = new Map<string, BridgeSession>();
  readonly #perClient = new Tally();
  readonly #perTarget = new Tally();
  readonly #outcomes = new Tally();
  readonly #rejections = new Tally();
  readonly #reaper: NodeJS.Timeout | undefined;
  #open = 0;
  #total = 0;
  #successful = 0;
  #failed = 0;
  #bytesToSsh = 0;
  #bytesToClient = 0;
  #pausesOutput = 0;
  #pausesInput = 0;
  #draining = false;

  /**
   * `hostKeys` defaults to the store the config describes, loaded now (a known_hosts file that
   * exists but cannot be read throws, stopping the start).
   */
  constructor(config: Config, logger: Logger, observers: Observers, hostKeys?: HostKeyStore) {
    this.#config = config;
    this.#log = logger;
    this.#observers = observers;
    this.hostKeys = hostKeys ?? HostKeyStore.fromConfig(config, logger);
    this.#limiter = new RateLimiter({
      burst: config.rateBurst, intervalMs: config.rateIntervalMs, perIp: config.ratePerIp,
      whitelist: CidrSet.parse(config.rateWhitelist),
    });
    if (config.authBanFailures > 0) {
      this.#ban = new AuthBan({ failures: config.authBanFailures, windowMs: config.authBanWindowMs, banMs: config.authBanDurationMs });
    }
    const idle = config.sessionIdleTimeoutMs;
    if (idle > 0) {
      this.#reaper = setInterval(() => this.#reap(), Math.min(5000, Math.max(50, Math.floor(idle / 4))));
      this.#reaper.unref();
    }
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Token bucket per client IP; false means refuse with RATE_LIMITED. */
  takeRateToken(clientIp: string): boolean {
    return this.#limiter.take(clientIp);
  }

  /** Seconds this client IP stays banned for failed SSH logins; 0 when it may connect. */
  bannedForSeconds(clientIp: string): number {
    const ms = this.#ban?.bannedForMs(clientIp) ?? 0;
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  retryAfterSeconds(clientIp: string): number {
    return Math.max(1, Math.ceil(this.#limiter.retryAfterMs(clientIp) / 1000));
  }

  /** Count a refusal that happened before a session existed. */
  reject(code: ErrorCode): void {
    this.#rejections.add(code);
  }

  /** Check every limit and take the slot in one step. */
  admit(clientIp: string, targetKey: string): AdmitResult {
    const c = this.#config;
    let code: ErrorCode | undefined;
    if (this.#draining) code = 'DRAINING';
    else if (this.#open >= c.connMaxTotal) code = 'LIMIT_TOTAL';
    else if (this.#perClient.get(clientIp) >= c.connMaxPerHost) code = 'LIMIT_PER_IP';
    else if (this.#perTarget.get(targetKey) >= c.connMaxPerTarget) code = 'LIMIT_PER_TARGET';
    if (code !== undefined) {
      this.reject(code);
      return { ok: false, code };
    }
    this.#open++;
    this.#perClient.add(clientIp);
    this.#perTarget.add(targetKey);
    let released = false;
    return {
      ok: true,
      admission: {
        clientIp, targetKey,
        release: () => {
          if (released) return;
          released = true;
          this.#open--;
          this.#perClient.remove(clientIp);
          this.#perTarget.remove(targetKey);
        },
      },
    };
  }

  /** Turn an admission into a live session; the session returns the slot when it ends. */
  startSession(admission: Admission, init: Omit<SessionInit, 'id' | 'hooks' | 'config' | 'logger' | 'hostKeys'>): BridgeSession {
    const hooks: SessionHooks = {
      observeTransition: (from, to, ms) => this.#observers.observeTransition(from, to, ms),
      observeHandshake: (ms) => this.#observers.observeHandshake(ms),
      onActive: (session) => {
        this.#successful++;
        this.#ban?.recordSuccess(session.clientIp);
      },
      onBytes: (direction, n) => {
        if (direction === 'to_ssh') this.#bytesToSsh += n;
        else this.#bytesToClient += n;
      },
      onPause: (direction) => {
        if (direction === 'ssh_output') this.#pausesOutput++;
        else this.#pausesInput++;
      },
      onEnd: (session, summary) => this.#ended(session, summary, admission),
    };
    const id = randomBytes(16).toString('hex');
    const session = new BridgeSession({ ...init, id, hooks, config: this.#config, logger: this.#log, hostKeys: this.hostKeys });
    this.#sessions.set(id, session);
    this.#total++;
    return session;
  }

  #ended(session: BridgeSession, summary: SessionSummary, admission: Admission): void {
    this.#sessions.delete(session.id);
    admission.release();
    if (!summary.reachedActive) this.#failed++;
    if (summary.code === 'SSH_AUTH_FAILED' && this.#ban?.recordFailure(session.clientIp) === true) {
      this.#log.warn({ event: 'client_banned', client_ip: session.clientIp, seconds: Math.ceil(this.#config.authBanDurationMs / 1000) }, 'client banned after repeated ssh authentication failures');
    }
    this.#outcomes.add(summary.code);
    this.#observers.observeSessionEnd(summary.durationMs / 1000);
  }

  #reap(): void {
    const cutoff = Date.now() - this.#config.sessionIdleTimeoutMs;
    for (const session of this.#sessions.values()) {
      if (session.state === SessionState.ACTIVE && session.lastActivity <= cutoff) {
        this.#log.info({ session: session.id }, 'idle timeout');
        void session.close('IDLE_TIMEOUT', `no activity for ${this.#config.sessionIdleTimeoutMs} ms`);
      }
    }
  }

  get size(): number {
    return this.#sessions.size;
  }

  stats(): ManagerStats {
    return {
      active: this.#open, total: this.#total, successful: this.#successful, failed: this.#failed,
      outcomes: this.#outcomes.snapshot(), rejections: this.#rejections.snapshot(),
      bytesToSsh: this.#bytesToSsh, bytesToClient: this.#bytesToClient,
      pausesSshOutput: this.#pausesOutput, pausesClientInput: this.#pausesInput,
      perClient: this.#perClient.snapshot(), perTarget: this.#perTarget.snapshot(), draining: this.#draining,
    };
  }

  limiterSnapshot(): ReturnType<RateLimiter['snapshot']> {
    return this.#limiter.snapshot();
  }

  banSnapshot(): ReturnType<AuthBan['snapshot']> | null {
    return this.#ban?.snapshot() ?? null;
  }

  sessionStats(): Array<Record<string, unknown>> {
    return [...this.#sessions.values()].map((s) => s.getStats());
  }

  /**
   * Stop admitting, tell every client (1001), wait for them to go up to `timeoutMs`, then cut
   * whatever is left. Resolves when no session remains.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#draining = true;
    this.stopReaper();
    const closing = [...this.#sessions.values()].map((s) => s.close('SHUTDOWN'));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      Promise.allSettled(closing).then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.#log.warn({ remaining: this.#sessions.size }, 'shutdown timeout: destroying remaining sessions');
      for (const s of this.#sessions.values()) s.destroy('SHUTDOWN');
      await Promise.allSettled(closing);
    }
  }

  stopReaper(): void {
    if (this.#reaper !== undefined) clearInterval(this.#reaper);
  }
}
