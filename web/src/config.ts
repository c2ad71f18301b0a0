/** `config.json` next to the page: fixed-target mode and the version. Any failure means "no fixed target". */
import { validPort, type Target } from './target.js';

export interface PageConfig {
  readonly fixedTarget: Target | null;
  readonly version: string;
}

const NONE: PageConfig = { fixedTarget: null, version: '' };

export async function loadConfig(timeoutMs = 5000): Promise<PageConfig> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch('config.json', { cache: 'no-store', credentials: 'same-origin', signal: abort.signal });
    if (!res.ok) return NONE;
    const body: unknown = await res.json();
    if (typeof body !== 'object' || body === null) return NONE;
    const b = body as Record<string, unknown>;
    const version = typeof b['version'] === 'string' ? b['version'] : '';
    const ft = b['fixedTarget'];
    if (typeof ft !== 'object' || ft === null) return { fixedTarget: null, version };
    const host = (ft as Record<string, unknown>)['host'];
    const port = (ft as Record<string, unknown>)['port'];
    if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !validPort(port)) {
      return { fixedTarget: null, version };
    }
    return { fixedTarget: { host, port }, version };
  } catch {
    return NONE;
  } finally {
    clearTimeout(timer);
  }
}
