/**
 * The keyboard-interactive dialog: one round of the server's questions (2FA codes, PAM prompts;
 * v1 `prompt`, docs/protocol.md). A native modal <dialog> (role="dialog", aria-modal) titled with
 * the round's name (or "Authentication"), the instructions, one labelled input per prompt
 * (type=password when the server asks not to echo) and Continue, which sends the answers once.
 * Cancel and Escape end the login. The answers live in the inputs only and are cleared on close.
 */
import { byId } from './dom.js';
import type { AuthPrompt } from './messages.js';

export class AuthPromptDialog {
  readonly #dialog = byId('prompt-dialog', HTMLDialogElement);
  readonly #form = byId('prompt-form', HTMLFormElement);
  readonly #title = byId('prompt-title');
  readonly #instructions = byId('prompt-instructions');
  readonly #fields = byId('prompt-fields');
  #inputs: HTMLInputElement[] = [];
  #answer: ((responses: string[]) => void) | null = null;
  #round = 0;

  constructor(onCancel: () => void) {
    this.#form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const answer = this.#answer;
      const responses = this.#inputs.map((el) => el.value);
      this.#close();
      answer?.(responses);
    });
    const cancel = (): void => {
      if (this.#answer === null) return;
      this.#close();
      onCancel();
    };
    byId('prompt-cancel', HTMLButtonElement).addEventListener('click', cancel);
    this.#dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault(); // Escape: cancel ourselves, so the inputs are cleared
      cancel();
    });
  }

  get open(): boolean {
    return this.#dialog.open;
  }

  /** Show one round; `answer` gets one response per prompt, at most once (never after dismiss()). */
  ask(prompt: AuthPrompt, answer: (responses: string[]) => void): void {
    this.#round++;
    const title = prompt.name.trim() === '' ? 'Authentication' : prompt.name;
    this.#title.textContent = prompt.hop === null ? title : `Jump host ${prompt.hop}: ${title}`;
    this.#instructions.textContent = prompt.instructions;
    this.#instructions.hidden = prompt.instructions.trim() === '';
    this.#fields.replaceChildren();
    this.#inputs = prompt.prompts.map((p, i) => {
      const id = `prompt-input-${this.#round}-${i}`;
      const field = document.createElement('div');
      field.className = 'field';
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = p.prompt.trim() === '' ? `Answer ${i + 1}` : p.prompt.trim();
      const input = document.createElement('input');
      input.id = id;
      input.type = p.echo ? 'text' : 'password';
      input.autocomplete = p.echo ? 'off' : 'one-time-code';
      input.spellcheck = false;
      input.autocapitalize = 'off';
      field.append(label, input);
      this.#fields.append(field);
      return input;
    });
    this.#answer = answer;
    if (!this.#dialog.open) this.#dialog.showModal();
    (this.#inputs[0] ?? byId('prompt-continue', HTMLButtonElement)).focus();
  }

  /** The round is moot (socket closed, user disconnected): close without answering. */
  dismiss(): void {
    this.#close();
  }

  #close(): void {
    this.#answer = null;
    for (const el of this.#inputs) el.value = '';
    this.#inputs = [];
    this.#fields.replaceChildren();
    if (this.#dialog.open) this.#dialog.close();
  }
}
