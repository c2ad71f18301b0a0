/**
 * The target policy: which `host:port` a session may reach, from `allow-targets`,
 * `deny-targets`, `deny-private-targets` and the built-in deny list. Pure: no DNS and no I/O.
 * `resolveTarget` (src/policy/target.ts) resolves a name once, asks `TargetPolicy.decide` about
 * the name and every address it got, and dials one of the addresses the policy returned.
 *
 * Rule syntax, `HOST[:PORTS]`: src/grammar/target-rule.ts.
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
import type { Config } from '../config/types.js';
import { CidrSet } from '../grammar/cidr.js';
import { canonicalIp, formatHostPort, parseTargetRule, ruleMatchesAddress, ruleMatchesGiven, ruleMatchesName, TargetRuleError, type TargetRule } from '../grammar/target-rule.js';

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

export type TargetDecision =
  /** `addresses`: the permitted addresses, canonical, in the order given; dial the first. */
  | { readonly ok: true; readonly addresses: readonly string[] }
  /** `reason`: why, naming the address or name and the rule; only operator config and client input. */
  | { readonly ok: false; readonly reason: string };

export type TargetPolicyConfig = Pick<Config, 'allowTargets' | 'denyTargets' | 'denyPrivateTargets'> & Partial<Pick<Config, 'jumpTargets'>>;

export class TargetPolicy {
  readonly allow: readonly TargetRule[];
  readonly deny: readonly TargetRule[];
  /** What may be reached through a jump host (`jump-targets`); empty: anything. */
  readonly jump: readonly TargetRule[];
  readonly #builtin: CidrSet;
  readonly #private: CidrSet | null;

  private constructor(builtin: CidrSet, priv: CidrSet | null, allow: readonly TargetRule[], deny: readonly TargetRule[], jump: readonly TargetRule[] = []) {
    this.#builtin = builtin;
    this.#private = priv;
    this.allow = Object.freeze([...allow]);
    this.deny = Object.freeze([...deny]);
    this.jump = Object.freeze([...jump]);
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
      parse('jump-targets', config.jumpTargets ?? []),
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

  /**
   * Judge a server the bridge does not dial: a later jump host, or the target of a jumped session,
   * which the hop before it resolves and connects to. Only the name or literal the client gave is
   * known, and the bridge's address rules (allow and deny CIDRs, the private ranges) describe the
   * bridge's own network, not the bastion's: what lies behind a bastion is the bastion's to reach
   * (docs/security.md, jump hosts). So: the built-in list still refuses a literal metadata or
   * link-local address, a deny rule refuses a name it matches, and `jump-targets`, when set, must
   * match the name or literal.
   */
  decideBeyond(host: string, port: number): { ok: true } | { ok: false; reason: string } {
    const literal = canonicalIp(host)?.address ?? null;
    const name = literal !== null ? null : (host.endsWith('.') ? host.slice(0, -1) : host).toLowerCase();
    const shown = formatHostPort(name ?? literal ?? host, port);
    if (literal !== null && this.#builtin.has(literal)) return { ok: false, reason: `${literal} is in a denied range` };
    const denied = name === null ? undefined : this.deny.find((rule) => ruleMatchesName(rule, name, port));
    if (denied !== undefined) return { ok: false, reason: `${shown} matches deny rule ${denied.text}` };
    if (this.jump.length > 0 && !this.jump.some((rule) => ruleMatchesGiven(rule, host, port))) return { ok: false, reason: `${shown} matches no jump-targets rule` };
    return { ok: true };
  }
}
