/**
 * Recent hosts and profiles in localStorage (`webssh-bridge.recent`, `webssh-bridge.profiles`;
 * the records and their checks are saved-logins.ts). Storage that is turned off or full only
 * means nothing is remembered: reads give empty lists, a write says it failed. Another tab or
 * frame of the page that changes them is followed (the `storage` event).
 */
import { parseProfiles, parseRecent, type LoginTarget, type Profile } from './saved-logins.js';

export const RECENT_KEY = 'webssh-bridge.recent';
export const PROFILES_KEY = 'webssh-bridge.profiles';

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage disabled (privacy mode, sandboxed frame)
  }
}

function write(key: string, value: unknown[]): boolean {
  try {
    if (value.length === 0) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, JSON.stringify(value));
    return true;
  } catch {
    return false; // full or turned off
  }
}

export class SavedStore {
  readonly #abort = new AbortController();

  /** `changed` runs when another tab or frame of this page changed either list. */
  constructor(changed: () => void) {
    window.addEventListener('storage', (ev) => {
      if (ev.key === null || ev.key === RECENT_KEY || ev.key === PROFILES_KEY) changed();
    }, { signal: this.#abort.signal });
  }

  recent(): LoginTarget[] {
    return parseRecent(read(RECENT_KEY));
  }

  profiles(): Profile[] {
    return parseProfiles(read(PROFILES_KEY));
  }

  /** False when the browser would not store it. */
  setRecent(list: readonly LoginTarget[]): boolean {
    return write(RECENT_KEY, [...list]);
  }

  setProfiles(list: readonly Profile[]): boolean {
    return write(PROFILES_KEY, [...list]);
  }

  dispose(): void {
    this.#abort.abort();
  }
}
