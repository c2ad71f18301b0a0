/** v1 control messages: server-to-client parsed defensively (unknown or malformed is null), and `auth`. */
import type { Credentials } from './target.js';

export type ServerMessage =
  | { readonly type: 'banner'; readonly message: string }
  | { readonly type: 'ready'; readonly sessionId: string; readonly resume: ResumeGrant | null }
  | { readonly type: 'resumed'; readonly sessionId: string; readonly position: number; readonly lost: number; readonly resume: ResumeGrant | null }
  | { readonly type: 'pong'; readonly t: number | null }
  | { readonly type: 'exit'; readonly status: number | null; readonly signal: string | null }
  | { readonly type: 'error'; readonly code: string; readonly message: string }
  | { readonly type: 'hostkey'; readonly host: string; readonly port: number; readonly algorithm: string; readonly fingerprint: string }
  | ({ readonly type: 'prompt' } & AuthPrompt);

/** A resume token (single use, rotated on every resume) and how long a dropped session is kept. */
export interface ResumeGrant {
  readonly token: string;
  readonly graceMs: number;
}

/** Tokens are at most 128 characters of `[A-Za-z0-9._-]` (docs/protocol.md#resume). */
export function validResumeToken(token: string): boolean {
  return /^[A-Za-z0-9._-]{1,128}$/.test(token);
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
      return { type: 'resumed', sessionId: str('sessionId') ?? '', position, lost, resume: resumeGrantOf(m['resume']) };
    }
    case 'pong': {
      const p = m['payload'];
      const t = typeof p === 'object' && p !== null ? (p as Record<string, unknown>)['t'] : undefined;
      return { type: 'pong', t: typeof t === 'number' ? t : null };
    }
    case 'exit':
      return { type: 'exit', status: typeof m['status'] === 'number' ? m['status'] : null, signal: str('signal') };
    case 'error':
      return { type: 'error', code: str('code') ?? 'INTERNAL', message: str('message') ?? '' };
    case 'hostkey': {
      // Only unknown keys are ever asked about; anything else is not a question we can answer.
      const host = str('host');
      const algorithm = str('algorithm');
      const fingerprint = str('fingerprint');
      const port = m['port'];
      if (host === null || algorithm === null || fingerprint === null || typeof port !== 'number' || m['status'] !== 'unknown') return null;
      return { type: 'hostkey', host, port, algorithm, fingerprint };
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
      return { type: 'prompt', name: str('name') ?? '', instructions: str('instructions') ?? '', prompts };
    }
    default:
      return null; // unknown types are ignored (forward compatible)
  }
}

/**
 * Client-to-server `auth` for the credentials and the fitted size, with render acknowledgements
 * on and a resumable session asked for.
 */
export function authMessage(c: Credentials, size: { cols: number; rows: number }): Record<string, unknown> {
  const common = { type: 'auth', username: c.username, term: 'xterm-256color', cols: size.cols, rows: size.rows, flowControl: true, resume: true };
  if (c.method === 'password') return { ...common, method: 'password', password: c.password };
  if (c.method === 'keyboard-interactive') return { ...common, method: 'keyboard-interactive' };
  return c.passphrase === ''
    ? { ...common, method: 'publickey', privateKey: c.privateKey }
    : { ...common, method: 'publickey', privateKey: c.privateKey, passphrase: c.passphrase };
}
