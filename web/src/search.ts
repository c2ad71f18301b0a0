/**
 * The small find box over the terminal (Ctrl/Cmd+Shift+F): input, match count, the toggles Match
 * case, Match whole word and Use regular expression (`aria-pressed`; a toggle searches again),
 * previous / next. A pattern that is not a valid regular expression says so instead of a count.
 */
import type { ISearchOptions } from '@xterm/addon-search';
import { byId } from './dom.js';
import type { TermView } from './terminal.js';
import { searchColors } from './themes.js';
import type { ThemeName } from './prefs.js';

export interface SearchBox {
  open(): void;
  close(): void;
  readonly isOpen: boolean;
}

export function setupSearch(view: TermView, theme: () => ThemeName): SearchBox {
  const box = byId('search');
  const input = byId('search-input', HTMLInputElement);
  const count = byId('search-count');
  const toggles = {
    caseSensitive: byId('search-case', HTMLButtonElement),
    wholeWord: byId('search-word', HTMLButtonElement),
    regex: byId('search-regex', HTMLButtonElement),
  };
  const on = (button: HTMLButtonElement): boolean => button.getAttribute('aria-pressed') === 'true';

  const options = (incremental: boolean): ISearchOptions => {
    const c = searchColors(theme());
    return {
      incremental,
      caseSensitive: on(toggles.caseSensitive),
      wholeWord: on(toggles.wholeWord),
      regex: on(toggles.regex),
      decorations: {
        matchBackground: c.match,
        activeMatchBackground: c.active,
        matchOverviewRuler: c.match,
        activeMatchColorOverviewRuler: c.active,
      },
    };
  };

  view.search.onDidChangeResults(({ resultIndex, resultCount }) => {
    if (input.value === '') count.textContent = '';
    else if (resultCount === 0) count.textContent = 'No results';
    else if (resultIndex < 0) count.textContent = `${resultCount}+`;
    else count.textContent = `${resultIndex + 1} of ${resultCount}`;
  });

  /** Run one search, unless the pattern is not a valid regular expression (said in place of the count). */
  const find = (run: () => void): void => {
    if (on(toggles.regex)) {
      try {
        new RegExp(input.value);
      } catch {
        view.search.clearDecorations();
        count.textContent = 'Invalid pattern';
        return;
      }
    }
    run();
  };
  const next = (incremental = false): void => {
    if (input.value === '') {
      view.search.clearDecorations();
      count.textContent = '';
      return;
    }
    find(() => view.search.findNext(input.value, options(incremental)));
  };
  const prev = (): void => {
    if (input.value !== '') find(() => view.search.findPrevious(input.value, options(false)));
  };

  const api: SearchBox = {
    open() {
      box.hidden = false;
      input.focus();
      input.select();
      if (input.value !== '') next(true);
    },
    close() {
      if (box.hidden) return;
      box.hidden = true;
      view.search.clearDecorations();
      view.term.clearSelection();
      view.term.focus();
    },
    get isOpen() {
      return !box.hidden;
    },
  };

  input.addEventListener('input', () => next(true));
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') {
      ev.preventDefault();
      if (ev.shiftKey) prev();
      else next();
    } else if (ev.key === 'Escape') {
      ev.preventDefault();
      api.close();
    }
  });
  for (const button of Object.values(toggles)) {
    button.addEventListener('click', () => {
      button.setAttribute('aria-pressed', String(!on(button)));
      // A new search from the top of the results, with the new options.
      view.search.clearDecorations();
      next(true);
    });
  }
  byId('search-next').addEventListener('click', () => next());
  byId('search-prev').addEventListener('click', prev);
  byId('search-close').addEventListener('click', () => api.close());
  return api;
}
