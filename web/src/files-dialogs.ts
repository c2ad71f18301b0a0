/**
 * The Files panel's two questions, native modal dialogs (modal.ts): a name (New folder, Rename:
 * Enter confirms, Escape cancels) and an upload whose name exists (Replace, Keep both, Skip;
 * Escape skips). For an uploaded folder over an existing folder, Replace reads "Merge" (files-tree.ts:
 * into the existing folder, its files of the same name replaced); over a file there is no Merge.
 */
import { byId } from './dom.js';
import { ModalQuestion } from './modal.js';
import { validName } from './files-names.js';

export type ConflictAnswer = 'replace' | 'both' | 'skip';

export class NameDialog {
  readonly #question = new ModalQuestion<string | null>(byId('files-name-dialog', HTMLDialogElement), null);
  readonly #title = byId('files-name-title');
  readonly #input = byId('files-name-input', HTMLInputElement);
  readonly #ok = byId('files-name-ok', HTMLButtonElement);

  constructor() {
    byId('files-name-form', HTMLFormElement).addEventListener('submit', (ev) => {
      ev.preventDefault();
      const name = this.#input.value.trim();
      if (!validName(name)) {
        this.#input.setCustomValidity('A name without "/", and not "." or ".."');
        this.#input.reportValidity();
        return;
      }
      this.#question.finish(name);
    });
    this.#input.addEventListener('input', () => this.#input.setCustomValidity(''));
    byId('files-name-cancel').addEventListener('click', () => this.#question.finish(null));
  }

  /** Resolves with the name typed, or null when cancelled. */
  ask(title: string, action: string, initial: string): Promise<string | null> {
    this.#question.finish(null);
    this.#title.textContent = title;
    this.#ok.textContent = action;
    this.#input.value = initial;
    this.#input.setCustomValidity('');
    return new Promise((resolve) => {
      this.#question.show(resolve);
      this.#input.focus();
      const dot = initial.lastIndexOf('.');
      this.#input.setSelectionRange(0, dot > 0 ? dot : initial.length);
    });
  }

  dismiss(): void {
    this.#question.finish(null);
  }
}

export class ConflictDialog {
  readonly #question = new ModalQuestion<ConflictAnswer>(byId('files-conflict-dialog', HTMLDialogElement), 'skip');
  readonly #text = byId('files-conflict-text');
  readonly #replace = byId('files-conflict-replace', HTMLButtonElement);

  constructor() {
    byId('files-conflict-form', HTMLFormElement).addEventListener('submit', (ev) => ev.preventDefault());
    byId('files-conflict-skip').addEventListener('click', () => this.#question.finish('skip'));
    byId('files-conflict-both').addEventListener('click', () => this.#question.finish('both'));
    byId('files-conflict-replace').addEventListener('click', () => this.#question.finish('replace'));
  }

  /**
   * `name` exists in `folder`; `otherName` is what keep both would upload as. `upload` is what is
   * uploaded, `existing` what has the name: a folder over a folder merges, over a file it cannot.
   */
  ask(name: string, folder: string, otherName: string, upload: 'file' | 'folder' = 'file', existing: 'file' | 'folder' = 'file'): Promise<ConflictAnswer> {
    this.#question.finish('skip');
    if (upload === 'folder') {
      const merge = existing === 'folder';
      this.#replace.textContent = 'Merge';
      this.#replace.hidden = !merge;
      this.#text.textContent = merge
        ? `A folder "${name}" exists in ${folder}. Merge into it (its files of the same names are replaced), keep both (the upload becomes "${otherName}"), or skip this folder?`
        : `A file "${name}" exists in ${folder}. Keep both (the folder is uploaded as "${otherName}"), or skip this folder?`;
    } else {
      this.#replace.textContent = 'Replace';
      this.#replace.hidden = false;
      this.#text.textContent = `"${name}" exists in ${folder}. Replace it, keep both (the upload becomes "${otherName}"), or skip this file?`;
    }
    return new Promise((resolve) => {
      this.#question.show(resolve);
      byId('files-conflict-both').focus();
    });
  }

  dismiss(): void {
    this.#question.finish('skip');
  }
}
