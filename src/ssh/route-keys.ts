/**
 * Operator routes (`--jump-route`, src/grammar/jump-route.ts) with their bastion keys. The keys
 * are read and parsed when the bridge starts (a route whose key cannot be read or decrypted stops
 * the start) and re-read by `reload()` (SIGHUP): a key that fails then keeps the one loaded
 * before, and the failure is reported, naming the route's key file, never the key. A session
 * takes the key current when its route is resolved.
 *
 * `match`: the first route whose rule covers the target as the client gave it (`routeCovers`,
 * pure, in src/grammar/jump-route.ts), or null: the target is dialed directly. Route choice and
 * judging stay in src/policy/route.ts; this module holds only the keys and their files.
 */
import { readFileSync } from 'node:fs';
import { isBridgeError } from '../errors.js';
import { TargetRuleError } from '../grammar/target-rule.js';
import { parseJumpRoute, routeCovers, type JumpRouteSpec } from '../grammar/jump-route.js';
import type { HopLogin } from '../protocol/types.js';
import { parsePrivateKey } from './keys.js';

export interface OperatorRoute {
  readonly spec: JumpRouteSpec;
  /** How the bridge logs in to the bastion: the route's user and its current key. */
  readonly login: HopLogin;
}

/** Read and check one route's key; throws an Error naming the key file (never its content). */
function loadLogin(spec: JumpRouteSpec): HopLogin {
  let key: string;
  let passphrase: string | undefined;
  try {
    key = readFileSync(spec.keyFile, 'utf8');
    passphrase = spec.passphraseFile === null ? undefined : readFileSync(spec.passphraseFile, 'utf8').split(/\r?\n/)[0];
  } catch (err) {
    throw new Error(`jump-route key ${spec.keyFile}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  try {
    parsePrivateKey(key, passphrase);
  } catch (err) {
    throw new Error(`jump-route key ${spec.keyFile}: ${isBridgeError(err) ? `${err.code}${err.detail === undefined ? '' : ` (${err.detail})`}` : 'unreadable'}`);
  }
  return { username: spec.user, auth: { method: 'publickey', privateKey: key, passphrase } };
}

export class JumpRoutes {
  #routes: readonly OperatorRoute[];

  private constructor(routes: readonly OperatorRoute[]) {
    this.#routes = routes;
  }

  /** The configured routes with their keys loaded; throws TargetRuleError (a configuration error, exit 2) naming jump-route on a bad spec or key. */
  static fromConfig(config: { readonly jumpRoutes?: readonly string[] }): JumpRoutes {
    return new JumpRoutes((config.jumpRoutes ?? []).map((text) => {
      try {
        const spec = parseJumpRoute(text);
        return { spec, login: loadLogin(spec) };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        throw new TargetRuleError(`invalid route in jump-route (--jump-route): ${message}`);
      }
    }));
  }

  get size(): number {
    return this.#routes.length;
  }

  /**
   * Re-read every route's key. A key that fails keeps the previous one; returns what failed
   * (one message per key file, no key material), empty when all were reloaded.
   */
  reload(): string[] {
    const failures: string[] = [];
    this.#routes = this.#routes.map((route) => {
      try {
        return { spec: route.spec, login: loadLogin(route.spec) };
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
        return route;
      }
    });
    return failures;
  }

  /** The first route covering `host:port` (as the client gave it), or null. */
  match(host: string, port: number): OperatorRoute | null {
    return this.#routes.find(({ spec }) => routeCovers(spec, host, port)) ?? null;
  }
}
