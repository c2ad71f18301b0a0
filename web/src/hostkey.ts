/**
 * The "Unknown host key" dialog: the bridge's v1 `hostkey` question (docs/protocol.md). A native
 * modal <dialog> (role="dialog", aria-modal, focus kept inside) showing the server, key type and
 * SHA256 fingerprint (a jump host's question says which hop: "Jump host 1: bastion:22"), with Accept and Reject. Reject has the initial focus, so a stray Enter
 * never trusts a key; Escape counts as Reject. Each question is answered at most once.
 */
import { byId } from './dom.js';
import { ModalQuestion } from './modal.js';
import { hostKeyServerLabel } from './jump.js';

export interface HostKeyPrompt {
  readonly host: string;
  readonly port: number;
  readonly algorithm: string;
  readonly fingerprint: string;
  /** Jump host N of the route (1-based); null: the target itself. */
  readonly hop: number | null;
}

export class HostKeyDialog {
  readonly #question = new ModalQuestion<boolean>(byId('hostkey-dialog', HTMLDialogElement), false); // Escape: Reject
  readonly #target = byId('hostkey-target');
  readonly #algorithm = byId('hostkey-algorithm');
  readonly #fingerprint = byId('hostkey-fingerprint');
  readonly #reject = byId('hostkey-reject', HTMLButtonElement);

  constructor() {
    byId('hostkey-accept', HTMLButtonElement).addEventListener('click', () => this.#question.finish(true));
    this.#reject.addEventListener('click', () => this.#question.finish(false));
  }

  get open(): boolean {
    return this.#question.open;
  }

  /** Show the question; `answer` is called once with the user's choice (never after dismiss()). */
  ask(prompt: HostKeyPrompt, answer: (accept: boolean) => void): void {
    this.#target.textContent = hostKeyServerLabel({ host: prompt.host, port: prompt.port }, prompt.hop);
    this.#algorithm.textContent = prompt.algorithm;
    this.#fingerprint.textContent = prompt.fingerprint;
    this.#question.show(answer);
    this.#reject.focus();
  }

  /** The question is moot (socket closed, user disconnected): close without answering. */
  dismiss(): void {
    this.#question.dismiss();
  }
}
