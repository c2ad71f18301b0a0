/**
 * Display preferences remembered in localStorage: font size, light/dark theme, and the settings
 * panel's font family, cursor style and scrollback. Recent hosts and profiles are saved-store.ts;
 * credentials live only in memory (see connection.ts), apart from a key its user asked to keep,
 * sealed (key-vault.ts). A stored value that is not one of the choices here counts as none (the
 * default).
 */

export type ThemeName = 'dark' | 'light';
export type CursorStyle = 'block' | 'underline' | 'bar';

export interface FontChoice {
  readonly id: string;
  readonly label: string;
  /** The CSS font-family list handed to xterm.js. */
  readonly stack: string;
}

export interface Prefs {
  fontSize: number;
  theme: ThemeName;
  /** A FONT_CHOICES id. */
  fontFamily: string;
  cursorStyle: CursorStyle;
  scrollback: number;
}

/** The page loads no web fonts (no external URLs): the choices are fonts a system may have. */
export const FONT_CHOICES: readonly FontChoice[] = [
  { id: 'system', label: 'System monospace', stack: 'ui-monospace, "SF Mono", "Cascadia Mono", "Segoe UI Mono", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", monospace' },
  { id: 'dejavu', label: 'DejaVu Sans Mono', stack: '"DejaVu Sans Mono", monospace' },
  { id: 'liberation', label: 'Liberation Mono', stack: '"Liberation Mono", monospace' },
  { id: 'noto', label: 'Noto Sans Mono', stack: '"Noto Sans Mono", monospace' },
  { id: 'cascadia', label: 'Cascadia Mono / Code', stack: '"Cascadia Mono", "Cascadia Code", monospace' },
  { id: 'consolas', label: 'Consolas', stack: 'Consolas, monospace' },
  { id: 'menlo', label: 'Menlo / SF Mono', stack: 'Menlo, "SF Mono", monospace' },
  { id: 'courier', label: 'Courier New', stack: '"Courier New", Courier, monospace' },
];
export const CURSOR_STYLES: readonly CursorStyle[] = ['block', 'underline', 'bar'];
/** Lines of history the terminal keeps (more costs memory: about 10 MB per 10,000 wide lines). */
export const SCROLLBACK_CHOICES: readonly number[] = [1000, 5000, 10000, 50000, 100000];
export const DEFAULT_SCROLLBACK = 10000;

export const MIN_FONT = 8;
export const MAX_FONT = 32;
export const DEFAULT_FONT = 14;

const KEY_FONT = 'webssh-bridge.fontSize';
const KEY_THEME = 'webssh-bridge.theme';
const KEY_FONT_FAMILY = 'webssh-bridge.fontFamily';
const KEY_CURSOR = 'webssh-bridge.cursorStyle';
const KEY_SCROLLBACK = 'webssh-bridge.scrollback';

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

/** The font choice with this id, or the default (the first). */
export function fontChoice(id: string | null): FontChoice {
  return FONT_CHOICES.find((f) => f.id === id) ?? (FONT_CHOICES[0] as FontChoice);
}

export function cursorStyleOf(value: string | null): CursorStyle {
  return CURSOR_STYLES.find((c) => c === value) ?? 'block';
}

export function scrollbackOf(value: string | null): number {
  return SCROLLBACK_CHOICES.find((n) => String(n) === value) ?? DEFAULT_SCROLLBACK;
}

export function loadPrefs(): Prefs {
  const font = read(KEY_FONT);
  const theme = read(KEY_THEME);
  return {
    fontSize: font === null ? DEFAULT_FONT : clampFont(Number(font)),
    theme: theme === 'light' || theme === 'dark' ? theme : systemTheme(),
    fontFamily: fontChoice(read(KEY_FONT_FAMILY)).id,
    cursorStyle: cursorStyleOf(read(KEY_CURSOR)),
    scrollback: scrollbackOf(read(KEY_SCROLLBACK)),
  };
}

/** The settings panel's choices (font family id, cursor style, scrollback lines). */
export function saveTerminalPrefs(prefs: Pick<Prefs, 'fontFamily' | 'cursorStyle' | 'scrollback'>): void {
  write(KEY_FONT_FAMILY, prefs.fontFamily);
  write(KEY_CURSOR, prefs.cursorStyle);
  write(KEY_SCROLLBACK, String(prefs.scrollback));
}

export function saveFontSize(size: number): void {
  write(KEY_FONT, String(clampFont(size)));
}

export function saveTheme(theme: ThemeName): void {
  write(KEY_THEME, theme);
}
