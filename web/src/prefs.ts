/**
 * Display preferences remembered in localStorage: font size and light/dark theme. Nothing else
 * is ever stored (credentials live only in memory, see connection.ts).
 */

export type ThemeName = 'dark' | 'light';

export interface Prefs {
  fontSize: number;
  theme: ThemeName;
}

export const MIN_FONT = 8;
export const MAX_FONT = 32;
export const DEFAULT_FONT = 14;

const KEY_FONT = 'webssh-bridge.fontSize';
const KEY_THEME = 'webssh-bridge.theme';

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage disabled (privacy mode, sandboxed frame)
  }
}

function write(key: string, value: string): void {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // not remembered; the page still works
  }
}

export function clampFont(size: number): number {
  if (!Number.isFinite(size)) return DEFAULT_FONT;
  return Math.min(MAX_FONT, Math.max(MIN_FONT, Math.round(size)));
}

function systemTheme(): ThemeName {
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

export function loadPrefs(): Prefs {
  const font = read(KEY_FONT);
  const theme = read(KEY_THEME);
  return {
    fontSize: font === null ? DEFAULT_FONT : clampFont(Number(font)),
    theme: theme === 'light' || theme === 'dark' ? theme : systemTheme(),
  };
}

export function saveFontSize(size: number): void {
  write(KEY_FONT, String(clampFont(size)));
}

export function saveTheme(theme: ThemeName): void {
  write(KEY_THEME, theme);
}
