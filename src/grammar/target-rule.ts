/**
 * The target rule grammar, `HOST[:PORTS]`, shared by the option table (src/config/schema.ts), the
 * target policy (src/policy/target-rules.ts) and a gateway identity's `webssh_targets`. Pure.
 * - HOST is an IP address (`192.0.2.7`, `::1`), a CIDR (`10.0.0.0/8`, `fd00::/8`) or a host name
 *   glob (`*.lab.example`, `ssh?.example`). An IPv6 address or CIDR must be in brackets when a
 *   port follows (`[fd00::/8]:22`); a bare IPv6 (`fe80::/10`) never has a port part.
 * - PORTS is `22` or `22-2222`; without it the rule covers every port.
 */
import { isIP } from 'node:net';
import { CidrSet, cidrError, normalizeIp } from './cidr.js';

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

/**
 * Does `rule` cover `host` as a client gave it, unresolved (a server behind a jump host, an
 * operator route's target)? An IP literal by the rule's CIDR, a name (case folded, a trailing dot
 * dropped) by its name glob: a name rule is never satisfied by an address or the other way round.
 */
export function ruleMatchesGiven(rule: TargetRule, host: string, port: number): boolean {
  const literal = canonicalIp(host)?.address ?? null;
  if (literal !== null) return ruleMatchesAddress(rule, literal, port);
  return ruleMatchesName(rule, (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase(), port);
}
