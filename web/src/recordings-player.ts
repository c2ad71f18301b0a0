/**
 * The recordings view's player: a modal dialog over the list (`#player-dialog`), so the list never
 * moves and the player, fitted to the dialog (`fit: 'both'`, which fits the window), keeps its
 * controls in view. Its head names the recording, says when it is still running, and has
 * Download (the .cast file) and Close; Escape closes it too. Closing disposes the asciinema
 * player and gives the focus back to the button that opened it.
 *
 * The player module (its own chunk) is loaded by the view on first use and handed in as `create`.
 */
import type { create as createPlayer, Player } from 'asciinema-player';
import { byId } from './dom.js';
import type { RecordingItem } from './recordings-api.js';
import { recordingLabel, startedAt } from './recordings-rows.js';

export interface PlayerDeps {
  /** Download `item`'s file; `button` is the one pressed (disabled meanwhile). */
  download(item: RecordingItem, button: HTMLButtonElement): void;
}

export class RecordingPlayer {
  readonly #dialog = byId('player-dialog', HTMLDialogElement);
  readonly #box = byId('recordings-player');
  readonly #title = byId('player-title');
  readonly #note = byId('player-note');
  readonly #close = byId('player-close', HTMLButtonElement);
  #player: Player | null = null;
  #item: RecordingItem | null = null;
  #opener: HTMLElement | null = null;

  constructor(deps: PlayerDeps) {
    const download = byId('player-download', HTMLButtonElement);
    download.addEventListener('click', () => {
      if (this.#item !== null) deps.download(this.#item, download);
    });
    this.#close.addEventListener('click', () => this.close());
    // Escape (the dialog's cancel) takes the same path as Close: the player goes at once. The
    // dialog's own close event comes a task later; it only cleans up a close from elsewhere.
    this.#dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      this.close();
    });
    this.#dialog.addEventListener('close', () => this.#dispose());
  }

  /** The recording shown, or null. */
  get item(): RecordingItem | null {
    return this.#item;
  }

  /** Play `text` (the recording's complete lines) in the dialog; `opener` gets the focus back. */
  show(item: RecordingItem, text: string, create: typeof createPlayer, opener: HTMLElement | null): void {
    this.#dispose();
    this.#item = item;
    this.#opener = opener;
    this.#title.textContent = recordingLabel(item);
    const started = startedAt(item);
    const when = started === null ? '' : `Started ${started.toLocaleString()}`;
    this.#note.textContent = item.live === true
      ? `${when}${when === '' ? 'Still' : '; still'} running: this shows what was recorded until now.`
      : when;
    if (!this.#dialog.open) this.#dialog.showModal();
    this.#close.focus();
    this.#player = create({ data: text }, this.#box, { autoPlay: true, fit: 'both', controls: true, idleTimeLimit: 2, terminalFontSize: 'small' });
  }

  /** Dispose of the player now, close the dialog, and give the focus back to what opened it. */
  close(): void {
    const opener = this.#opener;
    this.#dispose();
    if (this.#dialog.open) this.#dialog.close();
    if (opener?.isConnected === true) opener.focus();
  }

  #dispose(): void {
    this.#player?.dispose();
    this.#player = null;
    this.#item = null;
    this.#opener = null;
    this.#box.replaceChildren();
    this.#title.textContent = '';
    this.#note.textContent = '';
  }
}
