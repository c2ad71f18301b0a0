/**
 * Address sets from CIDR strings, on top of node's `net.BlockList` (which also matches
 * IPv4-mapped IPv6 addresses such as `::ffff:10.0.0.1` against IPv4 ranges).
 */
import { BlockList, isIP } from 'node:net';

/** Strip brackets, an IPv6 zone id and the IPv4-mapped prefix so every module compares one form. */
export function normalizeIp(raw: string): string {
  let ip = raw.trim();
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  const zone = ip.indexOf('%');
  if (zone !== -1) ip = ip.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  return ip.toLowerCase();
}

/** Parse one entry (`10.0.0.0/8`, `::1`, `192.0.2.7`); returns an error text or null. */
export function cidrError(entry: string): string | null {
  const trimmed = entry.trim();
  const slash = trimmed.indexOf('/');
  const addr = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const family = isIP(addr);
  if (family === 0) return `"${entry}" is not an IP address or CIDR`;
  if (slash === -1) return null;
  const bitsText = trimmed.slice(slash + 1);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) return `"${entry}" has a prefix length outside 0-${max}`;
  return null;
}

export class CidrSet {
  readonly entries: readonly string[];
  readonly #list = new BlockList();

  private constructor(entries: readonly string[]) {
    this.entries = Object.freeze([...entries]);
    for (const entry of entries) {
      const slash = entry.indexOf('/');
      const addr = slash === -1 ? entry : entry.slice(0, slash);
      const type = isIP(addr) === 4 ? 'ipv4' : 'ipv6';
      if (slash === -1) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(entry.slice(slash + 1)), type);
    }
  }

  /** Build a set; throws `Error` naming the first bad entry. Entries are trimmed, empties dropped. */
  static parse(entries: readonly string[]): CidrSet {
    const clean = entries.map((e) => e.trim()).filter((e) => e !== '');
    for (const entry of clean) {
      const err = cidrError(entry);
      if (err !== null) throw new Error(err);
    }
    return new CidrSet(clean);
  }

  get size(): number {
    return this.entries.length;
  }

  /** True when `ip` (any textual form) falls in the set. Non-IP input is never a member. */
  has(ip: string): boolean {
    const norm = normalizeIp(ip);
    const family = isIP(norm);
    if (family === 0 || this.entries.length === 0) return false;
    return this.#list.check(norm, family === 4 ? 'ipv4' : 'ipv6');
  }
}
