/** Terminal palettes for the two page themes (the page's own colors are CSS variables in styles.css). */
import type { ITheme } from '@xterm/xterm';
import type { ThemeName } from './prefs.js';

const dark: ITheme = {
  background: '#0d1117',
  foreground: '#e6edf3',
  cursor: '#58a6ff',
  cursorAccent: '#0d1117',
  selectionBackground: '#264f78',
  selectionInactiveBackground: '#264f7899',
  scrollbarSliderBackground: 'rgba(139, 148, 158, 0.25)',
  scrollbarSliderHoverBackground: 'rgba(139, 148, 158, 0.4)',
  scrollbarSliderActiveBackground: 'rgba(139, 148, 158, 0.55)',
  black: '#484f58',
  red: '#ff7b72',
  green: '#3fb950',
  yellow: '#d29922',
  blue: '#58a6ff',
  magenta: '#bc8cff',
  cyan: '#39c5cf',
  white: '#b1bac4',
  brightBlack: '#6e7681',
  brightRed: '#ffa198',
  brightGreen: '#56d364',
  brightYellow: '#e3b341',
  brightBlue: '#79c0ff',
  brightMagenta: '#d2a8ff',
  brightCyan: '#56d4dd',
  brightWhite: '#ffffff',
};

const light: ITheme = {
  background: '#ffffff',
  foreground: '#1f2328',
  cursor: '#0969da',
  cursorAccent: '#ffffff',
  selectionBackground: '#b6d7ff',
  selectionInactiveBackground: '#b6d7ff99',
  scrollbarSliderBackground: 'rgba(31, 35, 40, 0.2)',
  scrollbarSliderHoverBackground: 'rgba(31, 35, 40, 0.35)',
  scrollbarSliderActiveBackground: 'rgba(31, 35, 40, 0.5)',
  black: '#24292f',
  red: '#cf222e',
  green: '#116329',
  yellow: '#7d4e00',
  blue: '#0969da',
  magenta: '#8250df',
  cyan: '#1b7c83',
  white: '#6e7781',
  brightBlack: '#57606a',
  brightRed: '#a40e26',
  brightGreen: '#1a7f37',
  brightYellow: '#633c01',
  brightBlue: '#218bff',
  brightMagenta: '#a475f9',
  brightCyan: '#3192aa',
  brightWhite: '#8c959f',
};

export function terminalTheme(name: ThemeName): ITheme {
  return name === 'light' ? light : dark;
}

/** Search highlight colors (#RRGGBB as the search addon requires). */
export function searchColors(name: ThemeName): { match: string; active: string } {
  return name === 'light' ? { match: '#fff8c5', active: '#ffd33d' } : { match: '#3b3a1e', active: '#9e6a03' };
}
