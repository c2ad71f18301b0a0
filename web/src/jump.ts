/**
 * Pure pieces of jump hosts (docs/protocol.md#jump-hosts) on the page: the `?jump=user@host:port,…`
 * pre-fill of the page's own URL (never a password), and how a host key question names the server
 * it is about. The route's `?jump=` of the WebSocket URL is built by target.ts `gatewayUrl`.
 */
import { MAX_JUMP_HOPS } from './jump-hops.js';
import { parseHostInput, stripBrackets, targetLabel, type Target } from './target.js';

/** What `?jump=` of the page's URL pre-fills in the jump host section. */
export interface JumpPrefill {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
}

/**
 * `?jump=alice@bastion.example:2222`, `?jump=[2001:db8::1]:22`, `?jump=bastion,ops@10.0.5.4`: each
 * hop's host, port and user, in order, at most MAX_JUMP_HOPS; [] when there is none. The list
 * ends at the first hop that is not `[user@]host[:port]` (so a later hop never moves up).
 */
export function readJumpParams(search: string): JumpPrefill[] {
  const raw = new URLSearchParams(search).get('jump');
  if (raw === null) return [];
  const out: JumpPrefill[] = [];
  for (const part of raw.split(',').slice(0, MAX_JUMP_HOPS)) {
    const parsed = parseHostInput(part);
    const host = stripBrackets(parsed.host);
    if (host === '' || /[\s/@]/.test(host)) break;
    out.push({ host, ...(parsed.port === undefined ? {} : { port: parsed.port }), ...(parsed.user === undefined ? {} : { user: parsed.user }) });
  }
  return out;
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
