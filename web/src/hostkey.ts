/**
 * The "Unknown host key" dialog: the bridge's v1 `hostkey` question (docs/protocol.md). A native
 * modal <dialog> (role="dialog", aria-modal, focus kept inside) showing the server, key type and
 * SHA256 fingerprint, with Accept and Reject. Reject has the initial focus, so a stray Enter
 * never trusts a key; Escape counts as Reject. Each question is answered at most once.
 */
import { byId } from './dom.js';
import { targetLabel } from './target.js';

export interface HostKeyPrompt {
  readonly host: string;
  readonly port: number;
  readonly algorithm: string;
  readonly fingerprint: string;
}

export class HostKeyDialog {
  readonly #dialog = byId('hostkey-dialog', HTMLDialogElement);
  readonly #target = byId('hostkey-target');
  readonly #algorithm = byId('hostkey-algorithm');
  readonly #fingerprint = byId('hostkey-fingerprint');
  readonly #reject = byId('hostkey-reject', HTMLButtonElement);
  #answer: ((accept: boolean) => void) | null = null;

  constructor() {
    byId('hostkey-accept', HTMLButtonElement).addEventListener('click', () => this.#finish(true));
    this.#reject.addEventListener('click', () => this.#finish(false));
    this.#dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault(); // Escape: answer Reject ourselves, so the close goes through #finish
      this.#finish(false);
    });
  }

  get open(): boolean {
    return this.#dialog.open;
  }

  /** Show the question; `answer` is called once with the user's choice (never after dismiss()). */
  ask(prompt: HostKeyPrompt, answer: (accept: boolean) => void): void {
    this.#target.textContent = targetLabel({ host: prompt.host, port: prompt.port });
    this.#algorithm.textContent = prompt.algorithm;
    this.#fingerprint.textContent = prompt.fingerprint;
    this.#answer = answer;
    if (!this.#dialog.open) this.#dialog.showModal();
    this.#reject.focus();
  }

  /** The question is moot (socket closed, user disconnected): close without answering. */
  dismiss(): void {
    this.#answer = null;
    if (this.#dialog.open) this.#dialog.close();
  }

  #finish(accept: boolean): void {
    const answer = this.#answer;
    this.#answer = null;
    if (this.#dialog.open) this.#dialog.close();
    answer?.(accept);
  }
}
