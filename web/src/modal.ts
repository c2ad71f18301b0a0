/**
 * One question in a native modal `<dialog>`, answered at most once: `show` opens it with the
 * callback, `finish` closes it and answers, Escape answers `escapeAnswer` (the dialog's own close
 * is cancelled, so every close goes through here), `dismiss` closes it without answering (the
 * question became moot). The host key dialog and the Disconnect question use it.
 */
export class ModalQuestion<T> {
  readonly #dialog: HTMLDialogElement;
  readonly #abort = new AbortController();
  #answer: ((value: T) => void) | null = null;

  constructor(dialog: HTMLDialogElement, escapeAnswer: T) {
    this.#dialog = dialog;
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      this.finish(escapeAnswer);
    }, { signal: this.#abort.signal });
  }

  get open(): boolean {
    return this.#dialog.open;
  }

  /** Open (if not open yet) with `answer` as the one to call. */
  show(answer: (value: T) => void): void {
    this.#answer = answer;
    if (!this.#dialog.open) this.#dialog.showModal();
  }

  finish(value: T): void {
    const answer = this.#answer;
    this.dismiss();
    answer?.(value);
  }

  dismiss(): void {
    this.#answer = null;
    if (this.#dialog.open) this.#dialog.close();
  }

  dispose(): void {
    this.dismiss();
    this.#abort.abort();
  }
}
