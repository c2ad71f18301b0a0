/**
 * xterm.js 6 with its addons: fit, web links, search, Unicode 11 widths, serialize (the screen
 * kept for a reload) and the WebGL renderer (falling back to the DOM renderer when WebGL is
 * missing, software-only or its context is lost). Resizes are debounced and only reported when
 * the size really changed; the screen is never cleared. A viewer of a shared session locks the
 * size to the owner's instead (`lockSize`).
 */
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { SearchAddon } from '@xterm/addon-search';
import { Unicode11Addon } from '@xterm/addon-unicode11';
import { WebglAddon } from '@xterm/addon-webgl';
import { SerializeAddon } from '@xterm/addon-serialize';
import { clampFont, fontChoice, type CursorStyle, type ThemeName } from './prefs.js';
import { terminalTheme } from './themes.js';
import { wantWebgl } from './renderer.js';

const RESIZE_DEBOUNCE_MS = 100;

export interface TermView {
  readonly term: Terminal;
  readonly search: SearchAddon;
  /** Fit to the container now (or keep the locked size); returns the resulting size. */
  fit(): { cols: number; rows: number };
  /**
   * Keep the terminal at exactly this size whatever the window does (a viewer shows the owner's
   * screen at the owner's size); null fits to the container again.
   */
  lockSize(size: { cols: number; rows: number } | null): void;
  setFontSize(px: number): void;
  setTheme(theme: ThemeName): void;
  /** The settings panel's choices: font family (a prefs.ts FONT_CHOICES id), cursor style, scrollback lines. */
  setLook(look: TermLook): void;
  /** The visible lines of the active buffer, trailing spaces trimmed. */
  screenText(): string;
  /**
   * The parsed screen (modes, alternate buffer, the last `scrollback` lines of history) as
   * terminal data that rebuilds it when written into a terminal of the same size.
   */
  serialize(scrollback: number): string;
  renderer(): 'webgl' | 'dom';
}

export interface TermLook {
  readonly fontFamily: string;
  readonly cursorStyle: CursorStyle;
  readonly scrollback: number;
}

export function createTerminal(container: HTMLElement, opts: TermLook & { fontSize: number; theme: ThemeName }): TermView {
  const term = new Terminal({
    allowProposedApi: true, // unicode.activeVersion
    fontFamily: fontChoice(opts.fontFamily).stack,
    fontSize: clampFont(opts.fontSize),
    lineHeight: 1.15,
    cursorBlink: true,
    cursorStyle: opts.cursorStyle,
    scrollback: opts.scrollback,
    theme: terminalTheme(opts.theme),
    macOptionIsMeta: false,
    rightClickSelectsWord: true,
    drawBoldTextInBrightColors: true,
  });
  const fitAddon = new FitAddon();
  const search = new SearchAddon();
  term.loadAddon(fitAddon);
  term.loadAddon(search);
  term.loadAddon(new WebLinksAddon((event, uri) => {
    event.preventDefault();
    window.open(uri, '_blank', 'noopener,noreferrer');
  }));
  term.loadAddon(new Unicode11Addon());
  const serializer = new SerializeAddon();
  term.loadAddon(serializer);
  term.unicode.activeVersion = '11';
  term.open(container);

  let renderer: 'webgl' | 'dom' = 'dom';
  if (wantWebgl()) {
    try {
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => {
        webgl.dispose();
        renderer = 'dom';
        container.dataset['renderer'] = renderer;
      });
      term.loadAddon(webgl);
      renderer = 'webgl';
    } catch {
      renderer = 'dom'; // no WebGL2: the DOM renderer is already active
    }
  }
  container.dataset['renderer'] = renderer;

  let locked: { cols: number; rows: number } | null = null;
  const fit = (): { cols: number; rows: number } => {
    if (locked !== null) {
      if (term.cols !== locked.cols || term.rows !== locked.rows) term.resize(locked.cols, locked.rows);
      return { cols: term.cols, rows: term.rows };
    }
    try {
      fitAddon.fit();
    } catch {
      // not laid out yet
    }
    return { cols: term.cols, rows: term.rows };
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const scheduleFit = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      fit();
    }, RESIZE_DEBOUNCE_MS);
  };
  window.addEventListener('resize', scheduleFit);
  new ResizeObserver(scheduleFit).observe(container);

  return {
    term,
    search,
    fit,
    lockSize(size) {
      locked = size === null ? null : { cols: size.cols, rows: size.rows };
      container.dataset['sized'] = locked === null ? 'fit' : 'fixed';
      fit();
    },
    setFontSize(px) {
      term.options.fontSize = clampFont(px);
      fit();
    },
    setTheme(theme) {
      term.options.theme = terminalTheme(theme);
    },
    setLook(look) {
      term.options.cursorStyle = look.cursorStyle;
      term.options.scrollback = look.scrollback;
      const stack = fontChoice(look.fontFamily).stack;
      if (term.options.fontFamily === stack) return;
      term.options.fontFamily = stack;
      fit(); // other glyph widths: other columns
    },
    screenText() {
      const buf = term.buffer.active;
      const lines: string[] = [];
      for (let y = buf.viewportY; y < buf.viewportY + term.rows; y++) {
        lines.push(buf.getLine(y)?.translateToString(true).replace(/\s+$/, '') ?? '');
      }
      return lines.join('\n').replace(/\n+$/, '');
    },
    serialize: (scrollback) => serializer.serialize({ scrollback }),
    renderer: () => renderer,
  };
}
