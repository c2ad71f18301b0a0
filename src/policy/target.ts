/**
 * Where a session may connect, decided on resolved addresses rather than names so that a DNS
 * name pointing at a cloud metadata service is caught just like the literal address. The rules
 * themselves (allow/deny lists, private ranges, the built-in list) are in ./target-rules.ts.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BridgeError } from '../errors.js';
import { CidrSet } from '../grammar/cidr.js';
import { canonicalIp, formatHostPort } from '../grammar/target-rule.js';
import { DEFAULT_DENY, TargetPolicy } from './target-rules.js';

export { DEFAULT_DENY, TargetPolicy };

export type LookupFn = (host: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;

/** getaddrinfo with every address, in the resolver's order (so /etc/gai.conf preferences hold). */
export const systemLookup: LookupFn = async (host) => {
  const results = await dnsLookup(host, { all: true, verbatim: true });
  return results.map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));
};

export interface ResolvedTarget {
  /** The name (or literal) the client asked for; for logs and host-key lookup, never for dialing. */
  host: string;
  port: number;
  /** The address to dial. */
  address: string;
  family: 4 | 6;
  /** `address:port` / `[address]:port` in canonical form: the per-target limit key. */
  key: string;
}

/** The deny set used for target checks: the defaults plus configured extras (throws on a bad entry). */
export function denySet(extra: readonly string[] = []): CidrSet {
  return CidrSet.parse([...DEFAULT_DENY, ...extra]);
}

/**
 * Resolve `host` once and judge the name and every address it resolved to with `policy` (a
 * TargetPolicy, or a bare deny set). If any address is denied the whole name is refused
 * (TARGET_DENIED, with the policy's reason), so a name cannot smuggle a metadata address in among
 * public ones and win on a later retry. Lookup errors and empty answers are DNS_FAILED (cause
 * kept). IP literals skip DNS entirely.
 *
 * The returned `address` is the first address the policy permitted, and the caller must dial it,
 * never `host`: the checked address is then the one connected to, so DNS rebinding (a name
 * answering differently between check and connect) cannot work.
 */
export async function resolveTarget(
  host: string,
  port: number,
  policy: TargetPolicy | CidrSet,
  lookup: LookupFn = systemLookup,
): Promise<ResolvedTarget> {
  const rules = policy instanceof TargetPolicy ? policy : TargetPolicy.denyOnly(policy);
  const literal = canonicalIp(host);
  let addresses: Array<{ address: string; family: 4 | 6 }>;
  if (literal !== null) {
    addresses = [literal];
  } else {
    let answers: Array<{ address: string; family: 4 | 6 }>;
    try {
      answers = await lookup(host);
    } catch (err) {
      throw new BridgeError('DNS_FAILED', host, { cause: err });
    }
    addresses = [];
    for (const answer of answers) {
      const canon = canonicalIp(answer.address);
      if (canon === null) throw new BridgeError('DNS_FAILED', `${host}: resolver returned a non-IP answer`);
      addresses.push(canon);
    }
  }
  if (addresses.length === 0) throw new BridgeError('DNS_FAILED', host);

  const decision = rules.decide(host, port, addresses.map((a) => a.address));
  if (!decision.ok) throw new BridgeError('TARGET_DENIED', decision.reason);
  const chosen = addresses.find((a) => a.address === decision.addresses[0]);
  if (chosen === undefined) throw new BridgeError('TARGET_DENIED', `${host}: no permitted address`);
  return { host, port, address: chosen.address, family: chosen.family, key: formatHostPort(chosen.address, port) };
}
