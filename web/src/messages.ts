/** v1 control messages: server-to-client parsed defensively (unknown or malformed is null), and `auth`. */
import type { Credentials } from './target.js';

export type ServerMessage =
  | { readonly type: 'banner'; readonly message: string }
  | { readonly type: 'ready'; readonly sessionId: string }
  | { readonly type: 'pong'; readonly t: number | null }
  | { readonly type: 'exit'; readonly status: number | null; readonly signal: string | null }
  | { readonly type: 'error'; readonly code: string; readonly message: string }
  | { readonly type: 'hostkey'; readonly host: string; readonly port: number; readonly algorithm: string; readonly fingerprint: string }
  | ({ readonly type: 'prompt' } & AuthPrompt);

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
      return { type: 'ready', sessionId: str('sessionId') ?? '' };
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

/** Client-to-server `auth` for the credentials and the fitted size, with render acknowledgements on. */
export function authMessage(c: Credentials, size: { cols: number; rows: number }): Record<string, unknown> {
  const common = { type: 'auth', username: c.username, term: 'xterm-256color', cols: size.cols, rows: size.rows, flowControl: true };
  if (c.method === 'password') return { ...common, method: 'password', password: c.password };
  if (c.method === 'keyboard-interactive') return { ...common, method: 'keyboard-interactive' };
  return c.passphrase === ''
    ? { ...common, method: 'publickey', privateKey: c.privateKey }
    : { ...common, method: 'publickey', privateKey: c.privateKey, passphrase: c.passphrase };
}
