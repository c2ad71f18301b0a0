/**
 * Pure pieces of jump hosts (docs/protocol.md#jump-hosts) on the page: the `?jump=user@host:port`
 * pre-fill of the page's own URL (never a password), and how a host key question names the server
 * it is about. The route's `?jump=` of the WebSocket URL is built by target.ts `gatewayUrl`.
 */
import { parseHostInput, stripBrackets, targetLabel, type Target } from './target.js';

/** What `?jump=` of the page's URL pre-fills in the jump host section. */
export interface JumpPrefill {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
}

/**
 * `?jump=alice@bastion.example:2222`, `?jump=[2001:db8::1]:22`, `?jump=bastion`: the first hop's
 * host, port and user; null when there is none or no host. Only the first of a comma-separated
 * list is read (the page's form has one hop).
 */
export function readJumpParam(search: string): JumpPrefill | null {
  const raw = new URLSearchParams(search).get('jump');
  if (raw === null) return null;
  const first = raw.split(',')[0] ?? '';
  const parsed = parseHostInput(first);
  const host = stripBrackets(parsed.host);
  if (host === '' || /[\s/@]/.test(host)) return null;
  return { host, ...(parsed.port === undefined ? {} : { port: parsed.port }), ...(parsed.user === undefined ? {} : { user: parsed.user }) };
}

/** The server a host key question is about: `bastion.example:22`, or `Jump host 1: bastion.example:22`. */
export function hostKeyServerLabel(server: Target, hop: number | null): string {
  const label = targetLabel(server);
  return hop === null ? label : `Jump host ${hop}: ${label}`;
}

/** A failure on a jump host, as the bridge's error message names it. */
export interface HopFailure {
  readonly hop: number;
  /** `bastion.example:22`, as the bridge wrote it. */
  readonly server: string;
  /** What follows the hop (`forward to db:22 refused: …`), '' when nothing does. */
  readonly detail: string;
}

/**
 * `ssh authentication failed: hop 1 (bastion.example:22)` or `target unreachable: hop 1
 * (bastion:22): forward to db:22 refused: …` (docs/protocol.md#jump-hosts) -> the hop, its server
 * and the rest; null when the message names no hop (the target's own failure).
 */
export function hopFailureOf(message: string): HopFailure | null {
  const m = /(?:^|: )hop ([1-9]) \(([^()]+)\)(?:: (.*))?$/s.exec(message.trim());
  if (m === null) return null;
  return { hop: Number(m[1]), server: m[2] ?? '', detail: (m[3] ?? '').trim() };
}

/** How a sentence names a failing jump host: `jump host 1 (bastion.example:22)`. */
export function hopName(f: HopFailure): string {
  return `jump host ${f.hop} (${f.server})`;
}
