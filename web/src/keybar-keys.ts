/**
 * The bytes of the extra-keys bar (keybar.ts), pure: what Esc, Tab, the arrows and `| ~ / -`
 * send, and the sticky Ctrl and Alt that modify the next key, whether that key comes from the
 * bar or from the on-screen keyboard (the terminal's own input, `filter`).
 *
 * Encodings follow xterm, so programs read them as they read a desktop keyboard:
 * - an arrow is `ESC [ A` (`ESC O A` once the program asked for application cursor keys); with a
 *   modifier it is `ESC [ 1 ; m A`, m = 1 + 2 (Alt) + 4 (Ctrl);
 * - Ctrl+key is the key's C0 control: letters and `@ [ \ ] ^ _` map to 0x00..0x1f, space to NUL,
 *   `?` to DEL, and `/ - | ~` to what xterm sends for the keys they sit on (0x1f, 0x1f, 0x1c,
 *   0x1e); a key without a control (a digit, `é`) is sent unchanged;
 * - Alt+key is ESC followed by the key (after Ctrl, when both are armed).
 *
 * A modifier is armed by a tap and used up by the next key. Input that is not a key (a mouse
 * report, a terminal's answer to a query: escape sequences other than arrows) passes unchanged
 * and leaves it armed; typed text gets it on its first character.
 */

export type BarKey = 'esc' | 'tab' | 'up' | 'down' | 'right' | 'left' | '|' | '~' | '/' | '-';
export type Modifier = 'ctrl' | 'alt';

export interface Modifiers {
  readonly ctrl: boolean;
  readonly alt: boolean;
}

const ESC = '\x1b';
const ARROW_LETTER: Readonly<Record<string, string>> = { up: 'A', down: 'B', right: 'C', left: 'D' };
/** Ctrl on the symbols that have no C0 control of their own: xterm's bytes for their keys. */
const CTRL_SYMBOL: Readonly<Record<string, string>> = { ' ': '\x00', '?': '\x7f', '/': '\x1f', '-': '\x1f', '|': '\x1c', '~': '\x1e' };

/** Ctrl applied to one character (a code point): its control, or the character unchanged. */
export function ctrlOf(ch: string): string {
  const symbol = CTRL_SYMBOL[ch];
  if (symbol !== undefined) return symbol;
  const code = ch.length === 1 ? ch.charCodeAt(0) : -1;
  if (code >= 0x40 && code <= 0x5f) return String.fromCharCode(code - 0x40); // @ A..Z [ \ ] ^ _
  if (code >= 0x61 && code <= 0x7a) return String.fromCharCode(code - 0x60); // a..z
  return ch;
}

/** The letter of an arrow key as a terminal sends it (`ESC [ A`, `ESC O A`, `ESC [ 1 ; m A`), else null. */
function arrowLetter(data: string): string | null {
  const letter = data.slice(-1);
  if (!data.startsWith(ESC) || data.length < 3 || !'ABCD'.includes(letter)) return null;
  const middle = data.slice(1, -1);
  return middle === '[' || middle === 'O' || /^\[1;\d+$/.test(middle) ? letter : null;
}

function arrow(letter: string, mods: Modifiers, appCursor: boolean): string {
  const m = 1 + (mods.alt ? 2 : 0) + (mods.ctrl ? 4 : 0);
  if (m > 1) return `${ESC}[1;${m}${letter}`;
  return `${ESC}${appCursor ? 'O' : '['}${letter}`;
}

/** One character with the modifiers applied. */
function modified(ch: string, mods: Modifiers): string {
  const base = mods.ctrl ? ctrlOf(ch) : ch;
  return mods.alt ? `${ESC}${base}` : base;
}

/** The bytes of a bar key with `mods` held (`appCursor`: the program's cursor key mode). */
export function barKeyBytes(key: BarKey, mods: Modifiers, appCursor: boolean): string {
  const letter = ARROW_LETTER[key];
  if (letter !== undefined) return arrow(letter, mods, appCursor);
  if (key === 'esc') return mods.alt ? `${ESC}${ESC}` : ESC;
  if (key === 'tab') return mods.alt ? `${ESC}\t` : '\t';
  return modified(key, mods);
}

/**
 * Terminal input (typed, or from the on-screen keyboard) with `mods` applied: null when the input
 * is not a key the modifiers apply to (it goes out unchanged and they stay armed).
 */
export function applyModifiers(data: string, mods: Modifiers): string | null {
  if (data === '') return null;
  const letter = arrowLetter(data);
  if (letter !== null) return arrow(letter, mods, false);
  if (data.startsWith(ESC) && data.length > 1) return null; // a report or another sequence
  const [first = ''] = data;
  return `${modified(first, mods)}${data.slice(first.length)}`;
}

const NONE: Modifiers = { ctrl: false, alt: false };

/** Sticky Ctrl and Alt: armed by a tap, used up by the next key. */
export class StickyModifiers {
  #mods: Modifiers = NONE;
  readonly #changed: (mods: Modifiers) => void;

  /** `changed` is told every new state (to show which modifier is armed). */
  constructor(changed: (mods: Modifiers) => void) {
    this.#changed = changed;
  }

  get state(): Modifiers {
    return this.#mods;
  }

  /** A tap on Ctrl or Alt: arm it, or disarm it when it was armed. */
  toggle(mod: Modifier): void {
    this.#set({ ...this.#mods, [mod]: !this.#mods[mod] });
  }

  /** The bytes of a bar key; the armed modifiers are used up. */
  key(key: BarKey, appCursor: boolean): string {
    const bytes = barKeyBytes(key, this.#mods, appCursor);
    this.#set(NONE);
    return bytes;
  }

  /** Terminal input: modified (and the modifiers used up) when it is a key, else unchanged. */
  filter(data: string): string {
    if (!this.#mods.ctrl && !this.#mods.alt) return data;
    const out = applyModifiers(data, this.#mods);
    if (out === null) return data;
    this.#set(NONE);
    return out;
  }

  clear(): void {
    this.#set(NONE);
  }

  #set(mods: Modifiers): void {
    if (mods.ctrl === this.#mods.ctrl && mods.alt === this.#mods.alt) return;
    this.#mods = mods;
    this.#changed(mods);
  }
}
