/**
 * The operators' recordings view (`#recordings`, or the toolbar's "Recordings" link, shown only
 * when config.json says `recordings: true`): a table of the recordings (newest first) and the
 * asciinema player for the one chosen. The player is loaded on first use (its own chunk, with a
 * WebAssembly terminal; see the CSP in src/http/static.ts), and it is handed the recording's
 * text (`{ data }`), which the page fetched itself with the gateway token: the player's own URL
 * loading could not send the Authorization header.
 */
import type { Player } from 'asciinema-player';
import { byId } from './dom.js';
import type { TokenStore } from './gateway-auth.js';
import { describeFailure, fetchRecording, listRecordings, type RecordingItem } from './recordings-api.js';

const HASH = '#recordings';

export interface RecordingsDeps {
  /** config.json's `recordings`: the view can work on this gateway. */
  readonly enabled: boolean;
  /** The page's gateway token (token / JWT modes). */
  readonly tokens: TokenStore;
  /** The gateway takes tokens (else the proxy or the client certificate is the credential). */
  readonly usesToken: boolean;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function formatDuration(seconds: number | null): string {
  if (seconds === null) return '—';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

function formatTime(item: RecordingItem): string {
  const date = item.timestamp !== null ? new Date(item.timestamp * 1000) : new Date(item.mtime);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString();
}

function cell(row: HTMLTableRowElement, text: string, className?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

export class RecordingsView {
  readonly #deps: RecordingsDeps;
  readonly #screen = byId('recordings-screen');
  readonly #link = byId('recordings-link', HTMLAnchorElement);
  readonly #body = byId('recordings-body', HTMLTableSectionElement);
  readonly #error = byId('recordings-error');
  readonly #info = byId('recordings-info');
  readonly #tokenForm = byId('recordings-token-form', HTMLFormElement);
  readonly #tokenInput = byId('recordings-token', HTMLInputElement);
  readonly #playerBox = byId('recordings-player');
  readonly #playing = byId('recordings-playing');
  #player: Player | null = null;
  /** Bumped on every load and play, so a late answer never overwrites a newer one. */
  #generation = 0;

  constructor(deps: RecordingsDeps) {
    this.#deps = deps;
    this.#link.hidden = !deps.enabled;
    byId('recordings-refresh').addEventListener('click', () => void this.load());
    this.#tokenForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#deps.tokens.set(this.#tokenInput.value);
      this.#tokenInput.value = '';
      void this.load();
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
    if (want) void this.load();
    else this.#stopPlayer();
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
    this.#body.replaceChildren();
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
    const { items, truncated } = result.value;
    for (const item of items) this.#row(item);
    this.#say('', items.length === 0 ? 'No recordings yet.' : `${items.length} recording${items.length === 1 ? '' : 's'}${truncated ? ' (the newest; there are more)' : ''}.`);
  }

  #row(item: RecordingItem): void {
    const row = this.#body.insertRow();
    row.dataset['name'] = item.name;
    cell(row, formatTime(item));
    cell(row, item.username ?? '—');
    cell(row, item.target ?? '—');
    cell(row, item.subject ?? '—');
    cell(row, formatSize(item.size), 'num');
    cell(row, formatDuration(item.duration), 'num');
    const play = document.createElement('button');
    play.type = 'button';
    play.className = 'btn recordings-play';
    play.textContent = 'Play';
    play.setAttribute('aria-label', `Play ${item.title ?? item.name}`);
    play.addEventListener('click', () => void this.play(item));
    row.insertCell().append(play);
  }

  async play(item: RecordingItem): Promise<void> {
    const gen = ++this.#generation;
    this.#stopPlayer();
    this.#say('', `Loading ${item.title ?? item.name}…`);
    const [text, player] = await Promise.all([fetchRecording(item.name, this.#deps.tokens.get()), import('asciinema-player')]);
    if (gen !== this.#generation) return;
    if (!text.ok) {
      this.#say(describeFailure(text));
      return;
    }
    this.#say('', '');
    this.#playing.textContent = `${item.title ?? item.name} — ${formatTime(item)}`;
    this.#playerBox.hidden = false;
    this.#player = player.create({ data: text.value }, this.#playerBox, { autoPlay: true, fit: 'width', idleTimeLimit: 2, terminalFontSize: 'small' });
  }

  #stopPlayer(): void {
    this.#player?.dispose();
    this.#player = null;
    this.#playerBox.replaceChildren();
    this.#playerBox.hidden = true;
    this.#playing.textContent = '';
  }
}
