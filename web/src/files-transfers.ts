/**
 * The Files panel's transfers (files-queue.ts holds their state): uploads run here, one request
 * each, at most MAX_PARALLEL at once (the bridge allows four per session); each row shows a
 * progress bar, the bytes, the speed, the time left and Cancel (which aborts the request). The
 * toolbar's Files button shows how many run. An existing name asks Replace / Keep both / Skip
 * first (keep both: files-names.ts `keepBothName`). A folder's files (files-folders.ts) are queued
 * here as well, each into its own folder.
 */
import { byId } from './dom.js';
import type { FilesApi, UploadHandle } from './files-api.js';
import { FilesError } from './files-api.js';
import type { ConflictDialog } from './files-dialogs.js';
import { formatEta, formatSize, formatSpeed } from './files-format.js';
import { joinPath, keepBothName } from './files-names.js';
import { TransferQueue, type Transfer } from './files-queue.js';

const MAX_PARALLEL = 3;

interface Pending {
  readonly id: number;
  readonly file: File;
  readonly path: string;
  readonly overwrite: boolean;
  /** The folder it lands in. */
  readonly folder: string;
}

/** One upload to queue: `label` names it in the list (a name, or a path below the panel's folder). */
export interface QueuedUpload {
  readonly file: File;
  readonly label: string;
  readonly path: string;
  readonly overwrite: boolean;
  readonly folder: string;
}

export class FileTransfers {
  readonly #queue = new TransferQueue();
  readonly #list = byId('files-transfers');
  readonly #count = byId('files-count');
  readonly #clear = byId('files-clear', HTMLButtonElement);
  readonly #api: FilesApi;
  readonly #conflicts: ConflictDialog;
  /** An upload finished into `dir`. */
  readonly #landed: (dir: string) => void;
  readonly #handles = new Map<number, UploadHandle>();
  readonly #pending: Pending[] = [];
  readonly #rows = new Map<number, HTMLLIElement>();

  constructor(api: FilesApi, conflicts: ConflictDialog, landed: (dir: string) => void) {
    this.#api = api;
    this.#conflicts = conflicts;
    this.#landed = landed;
    this.#clear.addEventListener('click', () => {
      this.#queue.clearEnded();
      this.#render();
    });
  }

  get running(): number {
    return this.#queue.running;
  }

  /** Upload `files` into `dir`, whose names now are `taken` (asked about one by one); the names taken then. */
  async upload(files: readonly File[], dir: string, taken: ReadonlySet<string>): Promise<Set<string>> {
    const names = new Set(taken);
    for (const file of files) {
      let name = file.name;
      let overwrite = false;
      if (names.has(name)) {
        const other = keepBothName(name, names);
        const answer = await this.#conflicts.ask(name, dir, other);
        if (answer === 'skip') continue;
        if (answer === 'both') name = other;
        else overwrite = true;
      }
      names.add(name);
      this.#add({ file, label: name, path: joinPath(dir, name), overwrite, folder: dir });
    }
    this.#pump();
    this.#render();
    return names;
  }

  /** Queue uploads decided already (a folder's files, its folders made). */
  enqueue(uploads: readonly QueuedUpload[]): void {
    for (const u of uploads) this.#add(u);
    this.#pump();
    this.#render();
  }

  #add(u: QueuedUpload): void {
    const id = this.#queue.add(u.label, 'upload', u.file.size, performance.now());
    this.#pending.push({ id, file: u.file, path: u.path, overwrite: u.overwrite, folder: u.folder });
  }

  /** Cancel everything (the session ended). */
  cancelAll(): void {
    for (const p of this.#pending.splice(0)) this.#queue.cancel(p.id);
    for (const h of this.#handles.values()) h.abort();
    this.#render();
  }

  #pump(): void {
    while (this.#handles.size < MAX_PARALLEL) {
      const next = this.#pending.shift();
      if (next === undefined) return;
      if (this.#queue.get(next.id)?.state !== 'running') continue;
      const handle = this.#api.upload(next.file, next.path, next.overwrite, (sent) => {
        this.#queue.progress(next.id, sent, performance.now());
        this.#render();
      });
      this.#handles.set(next.id, handle);
      handle.done.then(() => {
        this.#queue.finish(next.id);
        this.#landed(next.folder);
      }, (err: unknown) => {
        if (this.#queue.get(next.id)?.state === 'running') this.#queue.fail(next.id, err instanceof FilesError ? err.text : String(err));
      }).finally(() => {
        this.#handles.delete(next.id);
        this.#render();
        this.#pump();
      });
    }
  }

  #cancel(id: number): void {
    this.#queue.cancel(id);
    this.#handles.get(id)?.abort();
    this.#render();
  }

  #render(): void {
    const all = this.#queue.list();
    const seen = new Set<number>();
    for (const t of all) {
      seen.add(t.id);
      let row = this.#rows.get(t.id);
      if (row === undefined) {
        row = this.#row(t);
        this.#rows.set(t.id, row);
        this.#list.append(row);
      }
      this.#update(row, t);
    }
    for (const [id, row] of this.#rows) {
      if (seen.has(id)) continue;
      row.remove();
      this.#rows.delete(id);
    }
    const running = this.#queue.running;
    this.#count.hidden = running === 0;
    this.#count.textContent = running === 0 ? '' : String(running);
    this.#count.parentElement?.setAttribute('aria-label', running === 0 ? 'Files' : `Files (${running} transfer${running === 1 ? '' : 's'} running)`);
    this.#clear.hidden = all.every((t) => t.state === 'running');
  }

  #row(t: Transfer): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset['transfer'] = t.name;
    const name = document.createElement('span');
    name.className = 'files-transfer-name';
    name.textContent = `${t.direction === 'upload' ? 'Upload' : 'Download'}: ${t.name}`;
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'btn files-transfer-cancel';
    cancel.textContent = 'Cancel';
    cancel.setAttribute('aria-label', `Cancel ${t.name}`);
    cancel.addEventListener('click', () => this.#cancel(t.id));
    const bar = document.createElement('progress');
    bar.max = Math.max(1, t.total);
    bar.setAttribute('aria-label', `${t.name} progress`);
    const info = document.createElement('span');
    info.className = 'files-transfer-info';
    li.append(name, cancel, bar, info);
    return li;
  }

  #update(li: HTMLLIElement, t: Transfer): void {
    const bar = li.querySelector('progress');
    const info = li.querySelector('.files-transfer-info');
    const cancel = li.querySelector<HTMLButtonElement>('.files-transfer-cancel');
    if (bar !== null) bar.value = t.sent;
    li.dataset['state'] = t.state;
    if (cancel !== null) cancel.hidden = t.state !== 'running';
    if (info === null) return;
    const bytes = `${formatSize(t.sent)} of ${formatSize(t.total)}`;
    switch (t.state) {
      case 'running': info.textContent = [bytes, formatSpeed(t.speed), formatEta(t.eta) === '' ? '' : `${formatEta(t.eta)} left`].filter((s) => s !== '').join(' · '); break;
      case 'done': info.textContent = `Done, ${formatSize(t.total)}`; break;
      case 'cancelled': info.textContent = `Cancelled at ${bytes}`; break;
      default: info.textContent = t.error;
    }
  }
}
