/**
 * Where a session may connect, decided on resolved addresses rather than names so that a DNS
 * name pointing at a cloud metadata service is caught just like the literal address.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { BridgeError } from '../errors.js';
import { CidrSet, normalizeIp } from './cidr.js';

/**
 * Ranges no session may reach, even with an empty configured deny list. Loopback and private
 * ranges are deliberately absent: reaching internal SSH hosts is the bridge's job.
 */
export const DEFAULT_DENY: readonly string[] = Object.freeze([
  // IPv4 link-local: cloud metadata (169.254.169.254 on AWS/GCP/Azure/OpenStack) hands out
  // instance credentials to anything that can send it an HTTP request.
  '169.254.0.0/16',
  // IPv6 link-local: only meaningful with a zone id, never a legitimate remote SSH target.
  'fe80::/10',
  // AWS Nitro instance metadata over IPv6.
  'fd00:ec2::254',
  // Alibaba Cloud instance metadata.
  '100.100.100.200',
  // Unspecified addresses: connect() to them reaches the local host on Linux, bypassing any
  // loopback rule an operator adds to the deny list.
  '0.0.0.0/32',
  '::/128',
]);

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
 * One canonical spelling per address, so limits keyed on it cannot be dodged by writing the same
 * address differently: IPv4-mapped IPv6 in either notation becomes dotted IPv4, IPv6 is
 * compressed and lowercased (the WHATWG URL serializer does RFC 5952 form for us).
 */
function canonicalIp(raw: string): { address: string; family: 4 | 6 } | null {
  const ip = normalizeIp(raw);
  const family = isIP(ip);
  if (family === 4) return { address: ip, family: 4 };
  if (family !== 6) return null;
  const compressed = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (mapped?.[1] !== undefined && mapped[2] !== undefined) {
    const hi = parseInt(mapped[1], 16);
    const lo = parseInt(mapped[2], 16);
    return { address: `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`, family: 4 };
  }
  return { address: compressed, family: 6 };
}

/**
 * Resolve `host` and apply the deny list to every address it resolves to. If any address is
 * denied the whole name is refused (TARGET_DENIED), so a name cannot smuggle a metadata address
 * in among public ones and win on a later retry. Lookup errors and empty answers are DNS_FAILED
 * (cause kept). IP literals skip DNS entirely.
 *
 * The caller must dial `address`, never `host`: the checked address is then the one connected
 * to, so DNS rebinding (a name answering differently between check and connect) cannot work.
 */
export async function resolveTarget(
  host: string,
  port: number,
  deny: CidrSet,
  lookup: LookupFn = systemLookup,
): Promise<ResolvedTarget> {
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

  for (const { address } of addresses) {
    if (deny.has(address)) throw new BridgeError('TARGET_DENIED', `${address} is in a denied range`);
  }
  const first = addresses[0];
  if (first === undefined) throw new BridgeError('DNS_FAILED', host);
  const key = first.family === 6 ? `[${first.address}]:${port}` : `${first.address}:${port}`;
  return { host, port, address: first.address, family: first.family, key };
}
