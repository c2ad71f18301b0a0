/**
 * The guarded entry of every route that acts for a client: the WebSocket upgrade, POST api/ticket
 * and api/recordings (and file routes later). The checks run in this order, for all of them:
 *
 *   1. the client IP (the socket's peer, or X-Forwarded-For behind a trusted proxy);
 *   2. the login ban, then the rate limit (one `enter` at the gate), refused with Retry-After;
 *   3. the route's cross-site rule (./cross-site.ts): Origin for the upgrade, CSRF for the APIs;
 *   4. the route's own step: its checks, then gateway authentication. A BridgeError thrown there
 *      is the refusal; any other error is the route's to handle (it is rethrown).
 *
 * Refusal accounting is one function for every route, and the routes' later refusals go through it
 * too: the refusal is counted by code (/stats, metrics), a rejected gateway credential counts
 * towards the client's login ban, then the route answers in its own way (its log line, and an
 * HTTP error or, for the page, a WebSocket close).
 *
 * The gate is reached through the two marked call sites below (ban and rate, and the ban's count).
 */
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/types.js';
import { isBridgeError, type ErrorCode } from '../errors.js';
import type { CidrSet } from '../grammar/cidr.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { AbuseRequests } from '../manager/abuse.js';
import { clientIp } from '../policy/client-ip.js';
import { requestSecure } from '../policy/forwarded-proto.js';
import type { Client } from '../util/requests.js';

/** Why a request is refused: a catalogue code, its detail, when to try again (a ban, a rate limit). A BridgeError is one. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly detail?: string | undefined;
  /** Whole seconds before trying again makes sense: HTTP's Retry-After, v1's `retryAfter`. */
  readonly retryAfterS?: number | undefined;
}

/** The headers a refusal's HTTP answer carries (the one place Retry-After is written from it). */
export function refusalHeaders(r: Refusal): Record<string, string> {
  return r.retryAfterS === undefined ? {} : { 'Retry-After': String(r.retryAfterS) };
}

/**
 * Who refused: the ban or the rate limit of a request that passed the cross-site rule (`abuse`:
 * a route may answer it the way it answers its own refusals, so the page can read it), the
 * guard's own checks otherwise (`guard`), or the route's step (`route`).
 */
export type Stage = 'abuse' | 'guard' | 'route';

/** How a route answers a refusal the guard has counted: its log line, then its response. */
export type Answer = (refusal: Refusal, stage: Stage) => void;

/** What a cross-site rule judges a request's Origin against. */
export interface Site {
  readonly secure: boolean;
  readonly allowedOrigins: Config['allowedOrigins'];
}

/** Step 3: null when the request may go on. */
export type CrossSiteRule = (req: IncomingMessage, site: Site) => Refusal | null;

/** A route's part in one guarded request. */
export interface Guarded<T> {
  readonly crossSite: CrossSiteRule;
  /** Step 4: the route's checks and gateway authentication; a BridgeError thrown is the refusal. */
  readonly step: () => Promise<T>;
  readonly answer: Answer;
  /** False: the ban only, no rate token (a request carrying a credential an admitted session handed out). */
  readonly rate?: boolean;
}

export interface GuardDeps {
  readonly trusted: CidrSet;
  readonly site: Site;
  /** The gate's ban and rate limit (the Abuse part of the gate). */
  readonly abuse: Client<Pick<AbuseRequests, 'enter' | 'authFailure'>>;
  /** Where refusals are counted. */
  readonly rejections: Pick<ConnectionManager, 'reject'>;
}

export class Guard {
  readonly #deps: GuardDeps;

  constructor(deps: GuardDeps) {
    this.#deps = deps;
  }

  /** Step 1: the address every limit, ban and log line is about. */
  clientIp(req: IncomingMessage): string {
    return clientIp(req.socket.remoteAddress, req.headers['x-forwarded-for'], this.#deps.trusted);
  }

  /**
   * Steps 2 to 4 for a request from `ip`: what the route's step returned, or null once the
   * refusal has been counted and answered.
   */
  async pass<T extends object>(req: IncomingMessage, ip: string, route: Guarded<T>): Promise<T | null> {
    const refuse = (refusal: Refusal, stage: Stage): null => {
      this.refuse(ip, refusal, (r) => route.answer(r, stage));
      return null;
    };
    const entered = await this.#deps.abuse.ask('enter', { clientIp: ip, rate: route.rate ?? true }); // gate call site: ban, then rate limit
    // Behind a proxy that ends TLS the browser's scheme is the proxy's word (policy/forwarded-proto.ts).
    const secure = requestSecure(req.socket.remoteAddress, req.headers['x-forwarded-proto'], this.#deps.trusted, this.#deps.site.secure);
    const crossSite = route.crossSite(req, secure === this.#deps.site.secure ? this.#deps.site : { ...this.#deps.site, secure });
    if (!entered.ok) {
      // The ban and rate refusal is the one counted and answered; the cross-site rule only says
      // whether the page at this origin may read it.
      return refuse({ code: entered.code, retryAfterS: entered.retryAfterS }, crossSite === null ? 'abuse' : 'guard');
    }
    if (crossSite !== null) return refuse(crossSite, 'guard');
    try {
      return await route.step();
    } catch (err) {
      if (!isBridgeError(err)) throw err;
      return refuse(err, 'route');
    }
  }

  /**
   * Refusal accounting, the same for every route: count it, let a rejected gateway credential
   * count towards the ban of `ip` (null: not known yet), then `answer`.
   */
  refuse(ip: string | null, refusal: Refusal, answer: (refusal: Refusal) => void): void {
    this.#deps.rejections.reject(refusal.code);
    if (refusal.code === 'BRIDGE_AUTH_INVALID' && ip !== null) {
      // gate call site: the ban's count (the answer, attempts left, is for an SSH login's error message)
      this.#deps.abuse.ask('authFailure', { clientIp: ip, kind: 'gateway' }).catch(() => undefined);
    }
    answer(refusal);
  }
}
