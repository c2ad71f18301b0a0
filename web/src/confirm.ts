/**
 * A small modal confirmation (`<dialog>`, aria-modal): a title, one sentence, Cancel and the
 * action. Kept quick: the action has the focus, so Enter confirms; Escape or Cancel cancels.
 * Used before Disconnect ends a live session. One question at a time; `dismiss` answers a pending
 * one with false (the session ended by itself meanwhile).
 */
import { byId } from './dom.js';
import { ModalQuestion } from './modal.js';

export interface ConfirmSpec {
  readonly title: string;
  readonly text: string;
  /** The action button's label. */
  readonly action: string;
}

export class ConfirmDialog {
  readonly #question = new ModalQuestion<boolean>(byId('confirm-dialog', HTMLDialogElement), false);
  readonly #title = byId('confirm-title');
  readonly #text = byId('confirm-text');
  readonly #ok = byId('confirm-ok', HTMLButtonElement);
  readonly #abort = new AbortController();

  constructor() {
    const { signal } = this.#abort;
    byId('confirm-form', HTMLFormElement).addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.#question.finish(true);
    }, { signal });
    byId('confirm-cancel', HTMLButtonElement).addEventListener('click', () => this.#question.finish(false), { signal });
  }

  get open(): boolean {
    return this.#question.open;
  }

  /** Ask; resolves true when the user confirms. A question still pending is answered false first. */
  ask(spec: ConfirmSpec): Promise<boolean> {
    this.#question.finish(false);
    this.#title.textContent = spec.title;
    this.#text.textContent = spec.text;
    this.#ok.textContent = spec.action;
    return new Promise((resolve) => {
      this.#question.show(resolve);
      this.#ok.focus();
    });
  }

  /** The question is moot: close it, answering false. */
  dismiss(): void {
    this.#question.finish(false);
  }

  dispose(): void {
    this.#question.dispose();
    this.#abort.abort();
  }
}
