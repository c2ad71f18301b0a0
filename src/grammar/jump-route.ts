/**
 * The operator route grammar (`--jump-route`): `RULE via USER@HOST[:PORT] key=FILE [passphrase-file=FILE]`.
 * - RULE is a target rule, `HOST[:PORTS]` (./target-rule.ts): which targets take this route.
 * - USER@HOST[:PORT] is the bastion the bridge dials and logs in to as USER (IPv6 in brackets,
 *   port 22 when left out). The user is required: the bridge has no login name of its own.
 * - key=FILE is the bastion login's private key (OpenSSH or PEM), read at start and on SIGHUP;
 *   passphrase-file=FILE holds its passphrase (first line) when the key is encrypted.
 * Words are separated by spaces; file paths cannot contain spaces or commas. Pure.
 */
import { isIP } from 'node:net';
import { parseTargetRule, ruleMatchesGiven, TargetRuleError, type TargetRule } from './target-rule.js';

export interface JumpRouteSpec {
  /** The spec as the operator wrote it (trimmed): names the route in logs and errors. */
  readonly text: string;
  readonly rule: TargetRule;
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly keyFile: string;
  readonly passphraseFile: string | null;
}

const USER = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,63}$/;
const NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Parse one route spec; throws TargetRuleError naming the spec and what is wrong with it. */
export function parseJumpRoute(raw: string): JumpRouteSpec {
  const text = raw.trim();
  const fail = (why: string): never => {
    throw new TargetRuleError(`"${text}": ${why}`);
  };
  const words = text.split(/\s+/).filter((w) => w !== '');
  const [ruleText, via, bastion, ...options] = words;
  if (ruleText === undefined || via !== 'via' || bastion === undefined) return fail('expected RULE via USER@HOST[:PORT] key=FILE [passphrase-file=FILE]');
  let rule: TargetRule;
  try {
    rule = parseTargetRule(ruleText);
  } catch (err) {
    if (err instanceof TargetRuleError) return fail(`rule: ${err.message}`);
    throw err;
  }
  const at = bastion.lastIndexOf('@');
  if (at <= 0) return fail(`"${bastion}": the bastion needs a user, USER@HOST[:PORT]`);
  const user = bastion.slice(0, at);
  if (!USER.test(user)) return fail(`"${user}" is not a user name`);
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(bastion.slice(at + 1));
  const host = m?.[1] ?? m?.[2];
  if (m === null || host === undefined) return fail(`"${bastion.slice(at + 1)}" is not HOST[:PORT]`);
  if (m[1] !== undefined && isIP(host) !== 6) return fail(`"[${host}]": brackets are for IPv6 addresses only`);
  if (m[1] === undefined && isIP(host) === 0 && !NAME.test(host)) return fail(`"${host}" is not a host name or an IP address`);
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (port < 1 || port > 65535) return fail(`port ${port} is outside 1-65535`);
  let keyFile: string | null = null;
  let passphraseFile: string | null = null;
  for (const option of options) {
    const eq = option.indexOf('=');
    const name = eq === -1 ? option : option.slice(0, eq);
    const value = eq === -1 ? '' : option.slice(eq + 1);
    if (name !== 'key' && name !== 'passphrase-file') return fail(`unknown "${name}": expected key=FILE or passphrase-file=FILE`);
    if (value === '') return fail(`${name}= needs a file path`);
    if ((name === 'key' ? keyFile : passphraseFile) !== null) return fail(`${name}= given twice`);
    if (name === 'key') keyFile = value;
    else passphraseFile = value;
  }
  if (keyFile === null) return fail('key=FILE is required: the bastion login\'s private key');
  return { text, rule, user, host: m[1] === undefined ? host.toLowerCase() : host, port, keyFile, passphraseFile };
}

/**
 * Does the route cover `host:port`, the target as the client gave it? A name by the rule's name
 * glob, an IP literal by its CIDR: the target is not resolved here (behind the bastion it is the
 * bastion's to resolve), so a name rule is never satisfied by an address or the other way round.
 */
export function routeCovers(spec: JumpRouteSpec, host: string, port: number): boolean {
  return ruleMatchesGiven(spec.rule, host, port);
}
