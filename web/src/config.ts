/**
 * `config.json` next to the page: fixed-target mode, the version, gateway authentication
 * (`auth: {required, methods}`, `ticketPath`), the recordings view and file transfer (`files`). Any failure means "no fixed target, no gateway
 * authentication" (the WebSocket then tells the page if the gateway wants a credential after all).
 */
import { validPort, type Target } from './target.js';

/** How the gateway itself authenticates people (before any SSH login). */
export type GatewayAuthMethod = 'token' | 'jwt' | 'proxy' | 'mtls';

export interface GatewayAuthConfig {
  /** The page must fetch a one-time ticket (POST `ticketPath`) before every WebSocket. */
  readonly required: boolean;
  readonly methods: readonly GatewayAuthMethod[];
  /** Where the tickets come from, relative to the page's base URL (`api/ticket`). */
  readonly ticketPath: string;
}

export interface PageConfig {
  readonly fixedTarget: Target | null;
  readonly version: string;
  readonly auth: GatewayAuthConfig;
  /** The operators' recordings view can work (record-dir and gateway authentication on). */
  readonly recordings: boolean;
  /**
   * File transfer is on (`files-enabled`): the Files tool is offered. Only an explicit `false`
   * turns it off; when config.json cannot be read, a `files` refused FILES_DISABLED still does.
   */
  readonly files: boolean;
}

export const DEFAULT_TICKET_PATH = 'api/ticket';
const METHODS: readonly GatewayAuthMethod[] = ['token', 'jwt', 'proxy', 'mtls'];
const NO_AUTH: GatewayAuthConfig = { required: false, methods: [], ticketPath: DEFAULT_TICKET_PATH };
const NONE: PageConfig = { fixedTarget: null, version: '', auth: NO_AUTH, recordings: false, files: true };

/** The ticket path as given (relative to the page); the same-origin check is made when it is resolved. */
function ticketPathOf(value: unknown): string {
  return typeof value === 'string' && value.trim() !== '' && value.length <= 200 ? value.trim() : DEFAULT_TICKET_PATH;
}

function authOf(value: unknown, ticketPath: unknown): GatewayAuthConfig {
  if (typeof value !== 'object' || value === null) return NO_AUTH;
  const a = value as Record<string, unknown>;
  const raw = Array.isArray(a['methods']) ? (a['methods'] as unknown[]) : [];
  const methods = METHODS.filter((m) => raw.includes(m));
  return { required: a['required'] === true, methods, ticketPath: ticketPathOf(ticketPath) };
}

function fixedTargetOf(ft: unknown): Target | null {
  if (typeof ft !== 'object' || ft === null) return null;
  const host = (ft as Record<string, unknown>)['host'];
  const port = (ft as Record<string, unknown>)['port'];
  if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !validPort(port)) return null;
  return { host, port };
}

export async function loadConfig(timeoutMs = 5000): Promise<PageConfig> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch('config.json', { cache: 'no-store', credentials: 'same-origin', signal: abort.signal });
    if (!res.ok) return NONE;
    const body: unknown = await res.json();
    if (typeof body !== 'object' || body === null) return NONE;
    const b = body as Record<string, unknown>;
    return {
      fixedTarget: fixedTargetOf(b['fixedTarget']),
      version: typeof b['version'] === 'string' ? b['version'] : '',
      auth: authOf(b['auth'], b['ticketPath']),
      recordings: b['recordings'] === true,
      files: b['files'] !== false,
    };
  } catch {
    return NONE;
  } finally {
    clearTimeout(timer);
  }
}
