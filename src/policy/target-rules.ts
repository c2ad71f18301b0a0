/**
 * The target policy: which `host:port` a session may reach, from `allow-targets`,
 * `deny-targets`, `deny-private-targets` and the built-in deny list. Pure: no DNS and no I/O.
 * `resolveTarget` (src/policy/target.ts) resolves a name once, asks `TargetPolicy.decide` about
 * the name and every address it got, and dials one of the addresses the policy returned.
 *
 * Rule syntax, `HOST[:PORTS]`:
 * - HOST is an IP address (`192.0.2.7`, `::1`), a CIDR (`10.0.0.0/8`, `fd00::/8`) or a host name
 *   glob (`*.lab.example`, `ssh?.example`). An IPv6 address or CIDR must be in brackets when a
 *   port follows (`[fd00::/8]:22`); a bare IPv6 (`fe80::/10`) never has a port part.
 * - PORTS is `22` or `22-2222`; without it the rule covers every port.
 *
 * Decision, for the name as asked, the port, and EVERY address the name resolved to:
 * 1. Denied if any address is in the built-in list (link-local, metadata, unspecified), in the
 *    private ranges (with deny-private-targets), or matches an IP deny rule; or if the name
 *    matches a name deny rule. Deny wins over allow, and one denied address refuses the name.
 * 2. Otherwise, with no allow rules, every address is permitted.
 * 3. Otherwise, when the name matches a name allow rule every address is permitted; if not, only
 *    the addresses an IP allow rule covers are. None permitted: denied.
 * The caller dials the first permitted address (resolver order), so an address outside the
 * allow rules is never dialed even when the same name also has an allowed one (dual stack).
 *
 * Name rules apply to names only: a target given as an IP literal is judged by IP rules alone,
 * so a glob can never be satisfied by writing the address instead of the name.
 */
import { isIP } from 'node:net';
import type { Config } from '../config/types.js';
import { CidrSet, cidrError, normalizeIp } from './cidr.js';

/**
 * Ranges no session may reach, even with an empty configured deny list. Loopback and private
 * ranges are deliberately absent (they are opt-in through deny-private-targets): reaching
 * internal SSH hosts is the bridge's job.
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

/** Refused with deny-private-targets: loopback, RFC 1918, unique local IPv6 and carrier-grade NAT. */
export const PRIVATE_RANGES: readonly string[] = Object.freeze([
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
  '100.64.0.0/10',
]);

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

interface RuleBase {
  /** The rule as the operator wrote it (trimmed): used in denial reasons. */
  readonly text: string;
  /** null: any port. */
  readonly ports: PortRange | null;
}

export interface IpRule extends RuleBase {
  readonly kind: 'ip';
  /** Canonical CIDR or address (IPv4-mapped IPv6 rewritten as IPv4). */
  readonly cidr: string;
  readonly set: CidrSet;
}

export interface NameRule extends RuleBase {
  readonly kind: 'name';
  /** The glob, lowercased, without a trailing dot. */
  readonly glob: string;
  readonly pattern: RegExp;
}

export type TargetRule = IpRule | NameRule;

/** A rule string that cannot be parsed; the message names the rule and what is wrong with it. */
export class TargetRuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetRuleError';
  }
}

/**
 * One canonical spelling per address: IPv4-mapped IPv6 in either notation becomes dotted IPv4,
 * IPv6 is compressed and lowercased (the WHATWG URL serializer does RFC 5952 form for us), zone
 * ids and brackets are dropped. Null when `raw` is not an IP address.
 */
export function canonicalIp(raw: string): { address: string; family: 4 | 6 } | null {
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

/** `a.b.c.d:22` or `[v6]:22`. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function parsePorts(text: string, rule: string): PortRange {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  if (m?.[1] === undefined) throw new TargetRuleError(`"${rule}": "${text}" is not a port or a port range N-M`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535) throw new TargetRuleError(`"${rule}": ports must be 1-65535`);
  if (lo > hi) throw new TargetRuleError(`"${rule}": port range ${lo}-${hi} is reversed`);
  return { lo, hi };
}

/** Canonical CIDR text; an IPv4-mapped IPv6 prefix of /96 or longer becomes the IPv4 CIDR it covers. */
function canonicalCidr(host: string, rule: string, bracketed: boolean): string {
  const err = cidrError(host);
  if (err !== null) throw new TargetRuleError(host === rule ? err : `"${rule}": ${err}`);
  const slash = host.indexOf('/');
  const addr = slash === -1 ? host : host.slice(0, slash);
  if (bracketed && isIP(addr) !== 6) throw new TargetRuleError(`"${rule}": brackets are for IPv6 addresses only`);
  const canon = canonicalIp(addr);
  if (canon === null) throw new TargetRuleError(`"${rule}": "${addr}" is not an IP address`);
  if (slash === -1) return canon.address;
  const bits = Number(host.slice(slash + 1));
  if (isIP(addr) === 6 && canon.family === 4) {
    // `::ffff:10.0.0.0/104` is `10.0.0.0/8`; a shorter prefix also covers non-mapped IPv6 space.
    if (bits >= 96) return `${canon.address}/${bits - 96}`;
    return `${new URL(`http://[${addr}]/`).hostname.slice(1, -1)}/${bits}`;
  }
  return `${canon.address}/${bits}`;
}

const GLOB_LABEL = /^[a-z0-9*?_-]+$/;

/** `*` is any run of characters (dots included, so `*.lab.example` covers `a.b.lab.example`); `?` is one character other than a dot. */
function globPattern(glob: string): RegExp {
  let src = '';
  for (const ch of glob) {
    if (ch === '*') src += '.*';
    else if (ch === '?') src += '[^.]';
    else if (ch === '.' || ch === '-') src += `\\${ch}`;
    else src += ch;
  }
  return new RegExp(`^${src}$`);
}

function parseNameGlob(host: string, rule: string): string {
  const glob = (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
  if (glob === '') throw new TargetRuleError(`"${rule}": the host part is empty`);
  if (glob.length > 253) throw new TargetRuleError(`"${rule}": host name longer than 253 characters`);
  for (const label of glob.split('.')) {
    if (label === '') throw new TargetRuleError(`"${rule}": host name has an empty label`);
    if (!GLOB_LABEL.test(label)) throw new TargetRuleError(`"${rule}": host names may contain only letters, digits, "-", "_" and the wildcards "*" and "?"`);
  }
  // Targets given as IP literals are never matched by names, so a numeric "glob" would silently
  // match nothing (and "1.2.3" or "999.0.0.1" would be a typo for an address): refuse it.
  if (/^[\d.*?]+$/.test(glob) && /\d/.test(glob)) {
    throw new TargetRuleError(`"${rule}": looks like an IPv4 address or pattern but is not one; write an address or a CIDR such as 10.0.0.0/24`);
  }
  return glob;
}

/** Parse one `HOST[:PORTS]` rule; throws TargetRuleError. */
export function parseTargetRule(raw: string): TargetRule {
  const text = raw.trim();
  if (text === '') throw new TargetRuleError('empty target rule');
  let host: string;
  let portText: string | undefined;
  let bracketed = false;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw new TargetRuleError(`"${text}": "[" without "]"`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new TargetRuleError(`"${text}": only ":PORTS" may follow "]"`);
      portText = rest.slice(1);
    }
    bracketed = true;
  } else {
    const colons = text.split(':').length - 1;
    if (colons === 1) {
      const at = text.indexOf(':');
      host = text.slice(0, at);
      portText = text.slice(at + 1);
    } else {
      host = text; // no colon, or a bare IPv6 address or CIDR, which has no port part
    }
  }
  const ports = portText === undefined ? null : parsePorts(portText, text);
  if (host === '') throw new TargetRuleError(`"${text}": the host part is empty`);
  const addr = host.includes('/') ? host.slice(0, host.indexOf('/')) : host;
  if (bracketed || host.includes(':') || host.includes('/') || isIP(addr) !== 0) {
    const cidr = canonicalCidr(host, text, bracketed);
    return { kind: 'ip', text, ports, cidr, set: CidrSet.parse([cidr]) };
  }
  const glob = parseNameGlob(host, text);
  return { kind: 'name', text, ports, glob, pattern: globPattern(glob) };
}

function portMatches(rule: TargetRule, port: number): boolean {
  return rule.ports === null || (port >= rule.ports.lo && port <= rule.ports.hi);
}

/** Does `rule` cover the name `name` (lowercase, no trailing dot) on `port`? IP rules never match names. */
export function ruleMatchesName(rule: TargetRule, name: string, port: number): boolean {
  return rule.kind === 'name' && portMatches(rule, port) && rule.pattern.test(name);
}

/** Does `rule` cover the address `address` on `port`? Name rules never match addresses. */
export function ruleMatchesAddress(rule: TargetRule, address: string, port: number): boolean {
  return rule.kind === 'ip' && portMatches(rule, port) && rule.set.has(address);
}

export type TargetDecision =
  /** `addresses`: the permitted addresses, canonical, in the order given; dial the first. */
  | { readonly ok: true; readonly addresses: readonly string[] }
  /** `reason`: why, naming the address or name and the rule; only operator config and client input. */
  | { readonly ok: false; readonly reason: string };

export type TargetPolicyConfig = Pick<Config, 'allowTargets' | 'denyTargets' | 'denyPrivateTargets'>;

export class TargetPolicy {
  readonly allow: readonly TargetRule[];
  readonly deny: readonly TargetRule[];
  readonly #builtin: CidrSet;
  readonly #private: CidrSet | null;

  private constructor(builtin: CidrSet, priv: CidrSet | null, allow: readonly TargetRule[], deny: readonly TargetRule[]) {
    this.#builtin = builtin;
    this.#private = priv;
    this.allow = Object.freeze([...allow]);
    this.deny = Object.freeze([...deny]);
  }

  /** The policy of a configuration; throws TargetRuleError naming the option and the bad rule. */
  static fromConfig(config: TargetPolicyConfig): TargetPolicy {
    const parse = (option: string, rules: readonly string[]): TargetRule[] =>
      rules.filter((r) => r.trim() !== '').map((r) => {
        try {
          return parseTargetRule(r);
        } catch (err) {
          if (err instanceof TargetRuleError) throw new TargetRuleError(`invalid target rule in ${option} (--${option}): ${err.message}`);
          throw err;
        }
      });
    return new TargetPolicy(
      CidrSet.parse(DEFAULT_DENY),
      config.denyPrivateTargets ? CidrSet.parse(PRIVATE_RANGES) : null,
      parse('allow-targets', config.allowTargets),
      parse('deny-targets', config.denyTargets),
    );
  }

  /** Only a deny set, nothing else: `resolveTarget` called with a bare CidrSet. */
  static denyOnly(deny: CidrSet): TargetPolicy {
    return new TargetPolicy(deny, null, [], []);
  }

  /**
   * Judge a target: `host` as the client asked for it (a name or an IP literal), the port, and
   * every address the name resolved to (for a literal, the literal itself). Never throws.
   */
  decide(host: string, port: number, addresses: readonly string[]): TargetDecision {
    const literal = canonicalIp(host) !== null;
    const name = literal ? null : (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
    const canon: string[] = [];
    for (const raw of addresses) {
      const c = canonicalIp(raw);
      if (c === null) return { ok: false, reason: `${name ?? host} resolved to something that is not an IP address` };
      canon.push(c.address);
    }
    if (canon.length === 0) return { ok: false, reason: `${name ?? host} has no address` };

    // 1. Deny wins: the built-in list, the private ranges, then the configured rules.
    for (const address of canon) {
      if (this.#builtin.has(address)) return { ok: false, reason: `${address} is in a denied range` };
    }
    if (this.#private !== null) {
      for (const address of canon) {
        if (this.#private.has(address)) return { ok: false, reason: `${address} is in a private range (deny-private-targets)` };
      }
    }
    for (const rule of this.deny) {
      if (name !== null && ruleMatchesName(rule, name, port)) {
        return { ok: false, reason: `${formatHostPort(name, port)} matches deny rule ${rule.text}` };
      }
      for (const address of canon) {
        if (ruleMatchesAddress(rule, address, port)) {
          return { ok: false, reason: `${formatHostPort(address, port)} is in deny rule ${rule.text}` };
        }
      }
    }

    // 2. No allow list: everything not denied.
    if (this.allow.length === 0) return { ok: true, addresses: canon };

    // 3. A name allowed by a glob may use all its addresses; otherwise only the allowed ones.
    if (name !== null && this.allow.some((rule) => ruleMatchesName(rule, name, port))) return { ok: true, addresses: canon };
    const permitted = canon.filter((address) => this.allow.some((rule) => ruleMatchesAddress(rule, address, port)));
    if (permitted.length > 0) return { ok: true, addresses: permitted };
    // The resolved addresses of a refused name are not shown: they are the bridge's view of DNS.
    return { ok: false, reason: `${formatHostPort(name ?? canon[0] ?? host, port)} matches no allow rule` };
  }
}
