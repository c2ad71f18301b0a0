/**
 * The operators' recordings view (`#recordings`, or the toolbar's "Recordings" link, shown only
 * when config.json says `recordings: true`): a filter (user, target, from / to day;
 * recordings-rows.ts), a table of the recordings (newest first) with Play and Download, and the
 * player in a dialog over it (recordings-player.ts). A recording whose entry says `live: true` is
 * shown as running. The asciinema player is loaded on first use (its own chunk, with a
 * WebAssembly terminal; see the CSP in src/http/static.ts), and it is handed the recording's text
 * (`{ data }`), which the page fetched itself with the gateway token: the player's own URL loading
 * could not send the Authorization header. A download is fetched the same way and saved from an
 * object URL, which the view revokes when the next one replaces it or the view closes.
 *
 * The way out is "Back to the terminal" while a session is on screen, else "Back to the connect
 * form": a page opened at `#recordings` has no terminal to go back to.
 */
import { byId } from './dom.js';
import type { TokenStore } from './gateway-auth.js';
import { describeFailure, fetchRecording, fetchRecordingFile, listRecordings, type RecordingItem } from './recordings-api.js';
import { RecordingPlayer } from './recordings-player.js';
import {
  countText, durationText, formatSize, isEmptyFilter, matchesFilter, nodeText, recordingLabel, startedAt, type RecordingFilter,
} from './recordings-rows.js';

const HASH = '#recordings';

export interface RecordingsDeps {
  /** config.json's `recordings`: the view can work on this gateway. */
  readonly enabled: boolean;
  /** The page's gateway token (token / JWT modes). */
  readonly tokens: TokenStore;
  /** The gateway takes tokens (else the proxy or the client certificate is the credential). */
  readonly usesToken: boolean;
  /** A session (the terminal) is on screen behind the view. */
  sessionShown(): boolean;
}

/** The table's column headings, also each cell's label when the rows are stacked (narrow screens). */
const COLUMNS = ['Started', 'User', 'Target', 'Gateway identity', 'Size', 'Duration'] as const;

function cell(row: HTMLTableRowElement, column: number, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  td.dataset['label'] = COLUMNS[column] ?? '';
  if (className !== undefined) td.className = className;
  return td;
}

function button(text: string, label: string, onClick: (b: HTMLButtonElement) => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn btn-small';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', () => onClick(b));
  return b;
}

export class RecordingsView {
  readonly #deps: RecordingsDeps;
  readonly #screen = byId('recordings-screen');
  readonly #link = byId('recordings-link', HTMLAnchorElement);
  readonly #back = byId('recordings-back', HTMLAnchorElement);
  readonly #body = byId('recordings-body', HTMLTableSectionElement);
  readonly #error = byId('recordings-error');
  readonly #info = byId('recordings-info');
  readonly #tokenForm = byId('recordings-token-form', HTMLFormElement);
  readonly #tokenInput = byId('recordings-token', HTMLInputElement);
  readonly #filterForm = byId('recordings-filter', HTMLFormElement);
  readonly #filter = {
    user: byId('filter-user', HTMLInputElement),
    target: byId('filter-target', HTMLInputElement),
    from: byId('filter-from', HTMLInputElement),
    to: byId('filter-to', HTMLInputElement),
  };
  readonly #player: RecordingPlayer;
  #items: readonly RecordingItem[] = [];
  #truncated = false;
  /** The count line of the rows shown (the info line goes back to it). */
  #count = '';
  #downloadUrl: string | null = null;
  /** Bumped on every load and play, so a late answer never overwrites a newer one. */
  #generation = 0;

  constructor(deps: RecordingsDeps) {
    this.#deps = deps;
    this.#link.hidden = !deps.enabled;
    this.#player = new RecordingPlayer({ download: (item, b) => void this.download(item, b) });
    byId('recordings-refresh').addEventListener('click', () => void this.load());
    this.#tokenForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#deps.tokens.set(this.#tokenInput.value);
      this.#tokenInput.value = '';
      void this.load();
    });
    this.#filterForm.addEventListener('submit', (ev) => ev.preventDefault());
    this.#filterForm.addEventListener('input', () => this.#render());
    byId('filter-clear').addEventListener('click', () => {
      for (const field of Object.values(this.#filter)) field.value = '';
      this.#render();
    });
    window.addEventListener('hashchange', () => this.#route());
    this.#route();
  }

  get shown(): boolean {
    return !this.#screen.hidden;
  }

  #route(): void {
    const want = window.location.hash === HASH;
    if (want === this.shown) return;
    this.#screen.hidden = !want;
    document.getElementById('app')?.setAttribute('data-view', want ? 'recordings' : 'terminal');
    if (want) {
      this.#back.textContent = this.#deps.sessionShown() ? 'Back to the terminal' : 'Back to the connect form';
      void this.load();
    } else {
      this.#generation++;
      this.#player.close();
      this.#revokeDownload();
    }
  }

  #say(error: string, info = ''): void {
    this.#error.textContent = error;
    this.#info.textContent = info;
  }

  #askToken(): boolean {
    const ask = this.#deps.usesToken && !this.#deps.tokens.has;
    this.#tokenForm.hidden = !ask;
    if (ask) this.#tokenInput.focus();
    return ask;
  }

  async load(): Promise<void> {
    const gen = ++this.#generation;
    this.#items = [];
    this.#body.replaceChildren();
    this.#filterForm.hidden = true;
    if (!this.#deps.enabled) {
      this.#say('Recordings are not available on this gateway (recording or gateway authentication is off).');
      return;
    }
    if (this.#askToken()) {
      this.#say('', 'Enter an operator\'s access token to see the recordings.');
      return;
    }
    this.#say('', 'Loading recordings…');
    const result = await listRecordings(this.#deps.tokens.get());
    if (gen !== this.#generation) return;
    if (!result.ok) {
      if (result.code === 'BRIDGE_AUTH_INVALID') this.#deps.tokens.forget();
      this.#askToken();
      this.#say(describeFailure(result));
      return;
    }
    this.#items = result.value.items;
    this.#truncated = result.value.truncated;
    this.#filterForm.hidden = this.#items.length === 0;
    this.#render();
  }

  /** The rows of the recordings that match the filter, and the count. */
  #render(): void {
    const f: RecordingFilter = {
      user: this.#filter.user.value, target: this.#filter.target.value, from: this.#filter.from.value, to: this.#filter.to.value,
    };
    const shown = this.#items.filter((item) => matchesFilter(item, f));
    this.#body.replaceChildren();
    for (const item of shown) this.#row(item);
    this.#count = countText(shown.length, this.#items.length, !isEmptyFilter(f), this.#truncated);
    this.#say('', this.#count);
  }

  #row(item: RecordingItem): void {
    const row = this.#body.insertRow();
    row.dataset['name'] = item.name;
    if (item.live === true) row.dataset['live'] = 'true';
    const started = cell(row, 0, startedAt(item)?.toLocaleString() ?? '—');
    const node = nodeText(item);
    if (node !== null) {
      row.dataset['node'] = item.node ?? '';
      const tag = document.createElement('span');
      tag.className = 'node';
      tag.textContent = node;
      started.append(' ', tag);
    }
    cell(row, 1, item.username ?? '—');
    cell(row, 2, item.target ?? '—');
    cell(row, 3, item.subject ?? '—');
    cell(row, 4, formatSize(item.size), 'num');
    cell(row, 5, durationText(item), item.live === true ? 'num running' : 'num');
    const label = recordingLabel(item);
    const actions = row.insertCell();
    actions.className = 'actions';
    actions.append(
      button('Play', `Play ${label}`, (b) => void this.play(item, b)),
      button('Download', `Download ${label}`, (b) => void this.download(item, b)),
    );
  }

  async play(item: RecordingItem, opener: HTMLElement | null = null): Promise<void> {
    const gen = ++this.#generation;
    this.#say('', `Loading ${recordingLabel(item)}…`);
    const [text, player] = await Promise.all([fetchRecording(item.name, this.#deps.tokens.get()), import('asciinema-player')]);
    if (gen !== this.#generation) return;
    if (!text.ok) {
      this.#say(describeFailure(text));
      return;
    }
    this.#say('', this.#count);
    this.#player.show(item, text.value, player.create, opener);
  }

  /** Save the recording's file as `NAME.cast` (fetched with the token, so no plain link). */
  async download(item: RecordingItem, pressed: HTMLButtonElement): Promise<void> {
    pressed.disabled = true;
    const file = await fetchRecordingFile(item.name, this.#deps.tokens.get());
    pressed.disabled = false;
    if (!file.ok) {
      this.#say(describeFailure(file));
      return;
    }
    this.#revokeDownload();
    this.#downloadUrl = URL.createObjectURL(file.value);
    const a = document.createElement('a');
    a.href = this.#downloadUrl;
    a.download = item.name;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
  }

  #revokeDownload(): void {
    if (this.#downloadUrl !== null) URL.revokeObjectURL(this.#downloadUrl);
    this.#downloadUrl = null;
  }
}
