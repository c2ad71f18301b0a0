/** v1 control messages: server-to-client parsed defensively (unknown or malformed is null), and `auth`. */
import type { Credentials, Login } from './target.js';

export type ServerMessage =
  | { readonly type: 'banner'; readonly message: string }
  | { readonly type: 'ready'; readonly sessionId: string; readonly resume: ResumeGrant | null }
  | { readonly type: 'resumed'; readonly sessionId: string; readonly position: number; readonly lost: number; readonly inputPosition: number | null; readonly resume: ResumeGrant | null }
  | { readonly type: 'pong'; readonly t: number | null }
  /** The session will be closed for idleness in `closesInMs`; null: activity took the warning back (`idle-cleared`). */
  | { readonly type: 'idle'; readonly closesInMs: number | null }
  | { readonly type: 'exit'; readonly status: number | null; readonly signal: string | null }
  /**
   * `retryAfter`: seconds before trying again makes sense (ban and rate refusals, the failed login
   * that started a ban), or null. After a failed login near the ban, `attemptsLeft` (else null)
   * and, while it is not 0, `banSeconds` (else null).
   */
  | { readonly type: 'error'; readonly code: string; readonly message: string; readonly retryAfter: number | null; readonly attemptsLeft: number | null; readonly banSeconds: number | null }
  /** `hop`: the question is about jump host N (1-based) of the route; null: about the target. */
  | { readonly type: 'hostkey'; readonly host: string; readonly port: number; readonly algorithm: string; readonly fingerprint: string; readonly hop: number | null }
  | ({ readonly type: 'prompt' } & AuthPrompt)
  | ({ readonly type: 'shared' } & ShareGrant)
  | { readonly type: 'share-refused'; readonly code: string; readonly message: string }
  | { readonly type: 'viewers'; readonly viewers: readonly ViewerEntry[] }
  /**
   * The answer to `files` (docs/protocol.md#files): a token for the api/files routes; `write`
   * false when the session may only list and download (a bridge that does not say: true).
   */
  | { readonly type: 'files-token'; readonly token: string; readonly expiresInMs: number; readonly write: boolean }
  | { readonly type: 'files-refused'; readonly code: string; readonly message: string }
  | ({ readonly type: 'viewing' } & ViewingInfo)
  | { readonly type: 'resize'; readonly cols: number; readonly rows: number };

/** Control messages the page sends on a live session (docs/protocol.md). */
export type ClientControl =
  | { readonly type: 'share'; readonly snapshot?: string }
  | { readonly type: 'share-revoke'; readonly linkId?: string }
  | { readonly type: 'presence' }
  | { readonly type: 'files' };

/** A view-only share link made for the owner (docs/protocol.md#sharing). */
export interface ShareGrant {
  readonly linkId: string;
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** Someone watching the owner's session. */
export interface ViewerEntry {
  readonly id: string;
  readonly subject: string;
  readonly clientIp: string;
  /** ISO time of the join, as sent. */
  readonly since: string;
  readonly linkId: string;
}

/** The first frame a viewer gets: whose session it watches, and its terminal size. */
export interface ViewingInfo {
  readonly sessionId: string;
  readonly username: string;
  readonly target: string;
  readonly cols: number;
  readonly rows: number;
}

/** A terminal dimension from the wire: an integer 1..10000, else null. */
function dimensionOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 10000 ? value : null;
}

function viewerOf(value: unknown): ViewerEntry | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const s = (k: string): string => (typeof v[k] === 'string' ? v[k] : '');
  const id = s('id');
  return id === '' ? null : { id, subject: s('subject'), clientIp: s('clientIp'), since: s('since'), linkId: s('linkId') };
}

/** A resume token (single use, rotated on every resume) and how long a dropped session is kept. */
export interface ResumeGrant {
  readonly token: string;
  readonly graceMs: number;
}

/** Tokens are at most 128 characters of `[A-Za-z0-9._~-]` (docs/protocol.md#resume). */
export function validResumeToken(token: string): boolean {
  return /^[A-Za-z0-9._~-]{1,128}$/.test(token);
}

function resumeGrantOf(value: unknown): ResumeGrant | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const token = r['token'];
  const graceMs = r['graceMs'];
  if (typeof token !== 'string' || !validResumeToken(token)) return null;
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs <= 0) return null;
  return { token, graceMs };
}

/** A byte count from the wire: a non-negative safe integer, else null. */
function countOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

/** One keyboard-interactive round: a form of `prompts` (echo false = a secret) to answer with `prompt-reply`. */
export interface AuthPrompt {
  readonly name: string;
  readonly instructions: string;
  readonly prompts: ReadonlyArray<{ readonly prompt: string; readonly echo: boolean }>;
  /** The jump host (1-based) asking; null: the target. */
  readonly hop: number | null;
}

export function parseServerMessage(text: string): ServerMessage | null {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return null;
  const m = msg as Record<string, unknown>;
  const str = (k: string): string | null => (typeof m[k] === 'string' ? m[k] : null);
  switch (m['type']) {
    case 'banner': {
      const message = str('message');
      return message === null ? null : { type: 'banner', message };
    }
    case 'ready':
      return { type: 'ready', sessionId: str('sessionId') ?? '', resume: resumeGrantOf(m['resume']) };
    case 'resumed': {
      const position = countOf(m['position']);
      const lost = countOf(m['lost'] ?? 0);
      if (position === null || lost === null) return null;
      // inputPosition: absent from bridges older than the field (nothing is sent again then).
      const inputPosition = m['inputPosition'] === undefined ? null : countOf(m['inputPosition']);
      return { type: 'resumed', sessionId: str('sessionId') ?? '', position, lost, inputPosition, resume: resumeGrantOf(m['resume']) };
    }
    case 'idle-warning': {
      const closesInMs = countOf(m['closesInMs']);
      return closesInMs === null ? null : { type: 'idle', closesInMs };
    }
    case 'idle-cleared':
      return { type: 'idle', closesInMs: null };
    case 'pong': {
      const p = m['payload'];
      const t = typeof p === 'object' && p !== null ? (p as Record<string, unknown>)['t'] : undefined;
      return { type: 'pong', t: typeof t === 'number' ? t : null };
    }
    case 'exit':
      return { type: 'exit', status: typeof m['status'] === 'number' ? m['status'] : null, signal: str('signal') };
    case 'error':
      return {
        type: 'error', code: str('code') ?? 'INTERNAL', message: str('message') ?? '',
        retryAfter: countOf(m['retryAfter']), attemptsLeft: countOf(m['attemptsLeft']), banSeconds: countOf(m['banSeconds']),
      };
    case 'hostkey': {
      // Only unknown keys are ever asked about; anything else is not a question we can answer.
      const host = str('host');
      const algorithm = str('algorithm');
      const fingerprint = str('fingerprint');
      const port = m['port'];
      if (host === null || algorithm === null || fingerprint === null || typeof port !== 'number' || m['status'] !== 'unknown') return null;
      const hop = m['hop'];
      return { type: 'hostkey', host, port, algorithm, fingerprint, hop: typeof hop === 'number' && Number.isInteger(hop) && hop >= 1 ? hop : null };
    }
    case 'prompt': {
      const raw = m['prompts'];
      if (!Array.isArray(raw)) return null;
      const prompts: Array<{ prompt: string; echo: boolean }> = [];
      for (const p of raw as unknown[]) {
        if (typeof p !== 'object' || p === null) return null;
        const q = p as Record<string, unknown>;
        if (typeof q['prompt'] !== 'string') return null;
        prompts.push({ prompt: q['prompt'], echo: q['echo'] === true });
      }
      const hop = m['hop'];
      return { type: 'prompt', name: str('name') ?? '', instructions: str('instructions') ?? '', prompts, hop: typeof hop === 'number' && Number.isInteger(hop) && hop >= 1 ? hop : null };
    }
    case 'shared': {
      const linkId = str('linkId');
      const token = str('token');
      const expiresAt = Date.parse(str('expiresAt') ?? '');
      if (linkId === null || token === null || token === '' || Number.isNaN(expiresAt)) return null;
      return { type: 'shared', linkId, token, expiresAt };
    }
    case 'share-refused':
      return { type: 'share-refused', code: str('code') ?? 'INTERNAL', message: str('message') ?? '' };
    case 'files-token': {
      const token = str('token');
      const ttl = m['expiresInMs'];
      if (token === null || token === '' || typeof ttl !== 'number' || !(ttl > 0)) return null;
      return { type: 'files-token', token, expiresInMs: ttl, write: m['write'] !== false };
    }
    case 'files-refused':
      return { type: 'files-refused', code: str('code') ?? 'INTERNAL', message: str('message') ?? '' };
    case 'viewers': {
      const raw = m['viewers'];
      if (!Array.isArray(raw)) return null;
      const viewers: ViewerEntry[] = [];
      for (const v of raw as unknown[]) {
        const entry = viewerOf(v);
        if (entry !== null) viewers.push(entry);
      }
      return { type: 'viewers', viewers };
    }
    case 'viewing': {
      const cols = dimensionOf(m['cols']);
      const rows = dimensionOf(m['rows']);
      if (cols === null || rows === null) return null;
      return { type: 'viewing', sessionId: str('sessionId') ?? '', username: str('username') ?? '', target: str('target') ?? '', cols, rows };
    }
    case 'resize': {
      const cols = dimensionOf(m['cols']);
      const rows = dimensionOf(m['rows']);
      return cols === null || rows === null ? null : { type: 'resize', cols, rows };
    }
    default:
      return null; // unknown types are ignored (forward compatible)
  }
}

/** The fields of one login (the target's at the top of `auth`, a jump host's in `auth.jump`). */
function loginFields(c: Login): Record<string, unknown> {
  if (c.method === 'password') return { username: c.username, method: 'password', password: c.password };
  if (c.method === 'keyboard-interactive') return { username: c.username, method: 'keyboard-interactive' };
  return c.passphrase === ''
    ? { username: c.username, method: 'publickey', privateKey: c.privateKey }
    : { username: c.username, method: 'publickey', privateKey: c.privateKey, passphrase: c.passphrase };
}

/**
 * Client-to-server `auth` for the credentials and the fitted size, with render acknowledgements
 * on and a resumable session asked for; a route through jump hosts adds each hop's login (`jump`).
 */
export function authMessage(c: Credentials, size: { cols: number; rows: number }): Record<string, unknown> {
  const common = { type: 'auth', term: 'xterm-256color', cols: size.cols, rows: size.rows, flowControl: true, resume: true };
  const jump = c.jump ?? [];
  return jump.length === 0 ? { ...common, ...loginFields(c) } : { ...common, ...loginFields(c), jump: jump.map((h) => loginFields(h.login)) };
}
