/**
 * The Files panel (docs/protocol.md#files from the page): the owner's tool, never a viewer's. The
 * toolbar's Files button or Alt+Shift+F opens it (not modal, like Settings; Escape or Close
 * closes it). It opens in the login directory (`list` of `.` answers the absolute path), then
 * offers a path bar, Up, Refresh, Show hidden, a listing sortable by name, size, time and mode,
 * New folder, Rename, Delete (asked first), Download (a single-use link the browser's own
 * download manager fetches: nothing is held in the tab) and Upload (a file picker, or files
 * dropped on the panel or on the terminal; files-transfers.ts runs them). Folders upload too:
 * dropped ones (read by files-walk.ts) or picked with Upload folder… (`webkitdirectory`, each file
 * with its `webkitRelativePath`); files-folders.ts makes their folders and queues their files.
 *
 * A session that may only read files (the `files-token` answer's `write: false`) is offered no
 * Upload, drop, New folder, Rename or Delete, and the panel says "Read-only"; Download stays. With
 * file transfer off on the gateway (config.json `files: false`, or a `files` request refused
 * FILES_DISABLED) there is no Files tool at all: no button, no shortcut.
 */
import { byId } from './dom.js';
import type { ConfirmSpec } from './confirm.js';
import { FilesApi, FilesError } from './files-api.js';
import { ConflictDialog, NameDialog } from './files-dialogs.js';
import { FolderUploads } from './files-folders.js';
import { formatMode, formatSize, formatTime } from './files-format.js';
import { joinPath, parentPath } from './files-names.js';
import { nextOrder, sortEntries, type FileEntry, type SortKey, type SortOrder } from './files-sort.js';
import { FileTransfers } from './files-transfers.js';
import { entriesFromPaths, type TreeEntry } from './files-tree.js';
import { walkEntries, type WalkEntry } from './files-walk.js';
import type { ServerMessage } from './messages.js';

export interface FilesPanelOptions {
  /** Send `{"type":"files"}` on the session's socket (false: no live session). */
  readonly ask: () => boolean;
  readonly confirm: (spec: ConfirmSpec) => Promise<boolean>;
  /** Where the keyboard goes when the panel closes and its button is not shown (the terminal). */
  readonly closed: () => void;
  /** The terminal's element: files dropped on it upload too. */
  readonly terminal: HTMLElement;
}

export class FilesPanel {
  readonly #button = byId('files-btn', HTMLButtonElement);
  readonly #panel = byId('files-panel');
  readonly #path = byId('files-path', HTMLInputElement);
  readonly #body = byId('files-body');
  readonly #message = byId('files-message');
  readonly #hidden = byId('files-hidden', HTMLInputElement);
  readonly #input = byId('files-input', HTMLInputElement);
  readonly #folderInput = byId('files-folder-input', HTMLInputElement);
  readonly #drop = byId('files-drop');
  readonly #readOnly = byId('files-readonly');
  readonly #writeTools = [byId('files-mkdir', HTMLButtonElement), byId('files-upload', HTMLButtonElement), byId('files-upload-folder', HTMLButtonElement)];
  readonly #api: FilesApi;
  readonly #names = new NameDialog();
  readonly #transfers: FileTransfers;
  readonly #folders: FolderUploads;
  readonly #opts: FilesPanelOptions;
  /** The session is connected. */
  #connected = false;
  /** File transfer is on at the gateway (config.json `files`; off for good after FILES_DISABLED). */
  #enabled = true;
  /** What the session's last file token said: it may change files; null before the first token. */
  #write: boolean | null = null;
  /** The folder shown ('' before the first listing). */
  #dir = '';
  #entries: readonly FileEntry[] = [];
  #order: SortOrder = { key: 'name', descending: false };
  /** Counts listings, so that an older answer arriving late is dropped. */
  #generation = 0;

  constructor(opts: FilesPanelOptions) {
    this.#opts = opts;
    this.#api = new FilesApi(opts.ask, (write) => this.#access(write));
    const conflicts = new ConflictDialog();
    const changed = (dir: string): void => {
      if (dir === this.#dir) void this.#load(dir);
    };
    this.#transfers = new FileTransfers(this.#api, conflicts, changed);
    this.#folders = new FolderUploads({ api: this.#api, conflicts, transfers: this.#transfers, say: (text, error) => this.#say(text, error), changed });
    this.#button.addEventListener('click', () => (this.#panel.hidden ? this.open() : this.close()));
    byId('files-close').addEventListener('click', () => this.close());
    this.#panel.addEventListener('keydown', (ev) => {
      if (ev.key !== 'Escape' || ev.defaultPrevented) return;
      ev.preventDefault();
      this.close();
    });
    byId('files-path-form', HTMLFormElement).addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.#load(this.#path.value.trim() === '' ? '.' : this.#path.value.trim());
    });
    byId('files-up').addEventListener('click', () => void this.#load(parentPath(this.#dir === '' ? '.' : this.#dir)));
    byId('files-refresh').addEventListener('click', () => void this.#load(this.#dir === '' ? '.' : this.#dir));
    this.#hidden.addEventListener('change', () => this.#render());
    byId('files-mkdir').addEventListener('click', () => void this.#mkdir());
    byId('files-upload').addEventListener('click', () => this.#input.click());
    this.#input.addEventListener('change', () => {
      const files = Array.from(this.#input.files ?? []);
      this.#input.value = '';
      this.#upload(files);
    });
    byId('files-upload-folder').addEventListener('click', () => this.#folderInput.click());
    this.#folderInput.addEventListener('change', () => {
      const files = Array.from(this.#folderInput.files ?? []);
      this.#folderInput.value = '';
      if (files.length === 0) {
        this.#say('That folder has no files, and a folder picker gives none of its empty folders: nothing to upload.');
        return;
      }
      const picked = entriesFromPaths(files.map((file) => ({ path: file.webkitRelativePath, name: file.name, file })));
      if ('error' in picked) this.#say(picked.error, true);
      else this.#uploadTree(picked.entries);
    });
    for (const th of this.#panel.querySelectorAll<HTMLButtonElement>('.files-sort')) {
      th.addEventListener('click', () => {
        this.#order = nextOrder(this.#order, (th.dataset['key'] ?? 'name') as SortKey);
        this.#render();
      });
    }
    for (const zone of [this.#drop, opts.terminal]) this.#dropZone(zone);
    // Alt+Shift+F, like the page's other Alt+Shift shortcuts (pane-link.ts), before the terminal sees it.
    window.addEventListener('keydown', (ev) => {
      if (!ev.altKey || !ev.shiftKey || ev.ctrlKey || ev.metaKey || ev.code !== 'KeyF' || !this.#available) return;
      ev.preventDefault();
      ev.stopPropagation();
      if (this.#panel.hidden) this.open();
      else this.close();
    }, { capture: true });
  }

  /** The tool can be used: a connected session, on a gateway with file transfer on. */
  get #available(): boolean {
    return this.#connected && this.#enabled;
  }

  /** The session is connected (the tool shows) or not (it hides and the panel closes; transfers go on while it resumes). */
  setAvailable(connected: boolean): void {
    this.#connected = connected;
    this.#showTool();
  }

  /** Whether the gateway has file transfer on (config.json `files`); off: no tool at all. */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    this.#showTool();
  }

  #showTool(): void {
    this.#button.hidden = !this.#available;
    if (!this.#available) this.close();
  }

  /** A new session (or none): the old one's token, access, transfers and folder are gone. */
  reset(): void {
    this.#api.forget();
    this.#folders.cancel();
    this.#transfers.cancelAll();
    this.#dir = '';
    this.#entries = [];
    this.#body.replaceChildren();
    this.#say('');
    this.#write = null;
    this.#showAccess();
  }

  /** A control message of the session (`files-token`, `files-refused`). */
  received(m: ServerMessage): void {
    // File transfer is off at the gateway after all (config.json could not be read): no tool.
    if (m.type === 'files-refused' && m.code === 'FILES_DISABLED') this.setEnabled(false);
    this.#api.received(m);
  }

  /** A file token said whether the session may change files. */
  #access(write: boolean): void {
    if (write === this.#write) return;
    this.#write = write;
    this.#showAccess();
    if (this.#dir !== '') this.#render();
  }

  /** Upload, New folder (and each row's Rename and Delete, #row) only for a session that may write. */
  #showAccess(): void {
    const readOnly = this.#write === false;
    this.#readOnly.hidden = !readOnly;
    for (const b of this.#writeTools) b.hidden = readOnly;
  }

  open(): void {
    if (!this.#available) return;
    this.#panel.hidden = false;
    this.#button.setAttribute('aria-expanded', 'true');
    this.#path.focus();
    void this.#load(this.#dir === '' ? '.' : this.#dir);
  }

  close(): void {
    if (this.#panel.hidden) return;
    const hadFocus = this.#panel.contains(document.activeElement);
    this.#panel.hidden = true;
    this.#button.setAttribute('aria-expanded', 'false');
    if (!hadFocus) return;
    if (this.#button.getClientRects().length > 0 && this.#button.closest('[hidden]') === null) this.#button.focus();
    else this.#opts.closed();
  }

  #say(text: string, error = false): void {
    this.#message.textContent = text;
    this.#message.classList.toggle('error', error);
  }

  /** Run `work`, showing its refusal as a sentence; true when it went through. */
  async #try(work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (err) {
      this.#say(err instanceof FilesError ? err.text : String(err), true);
      return false;
    }
  }

  async #load(path: string): Promise<void> {
    const generation = ++this.#generation;
    this.#say('Loading…');
    await this.#try(async () => {
      const listing = await this.#api.list(path);
      if (generation !== this.#generation) return;
      this.#dir = listing.path;
      this.#entries = listing.entries;
      this.#path.value = listing.path;
      this.#say('');
      this.#render();
    });
  }

  #render(): void {
    for (const th of this.#panel.querySelectorAll<HTMLButtonElement>('.files-sort')) {
      const key = th.dataset['key'] as SortKey;
      const on = key === this.#order.key;
      th.parentElement?.setAttribute('aria-sort', on ? (this.#order.descending ? 'descending' : 'ascending') : 'none');
    }
    const rows = sortEntries(this.#entries, this.#order, this.#hidden.checked).map((e) => this.#row(e));
    this.#body.replaceChildren(...rows);
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = document.createElement('td');
      td.colSpan = 5;
      td.textContent = 'This folder is empty.';
      tr.append(td);
      this.#body.append(tr);
    }
  }

  #row(e: FileEntry): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset['name'] = e.name;
    const cell = (text: string, cls = ''): HTMLTableCellElement => {
      const td = document.createElement('td');
      td.textContent = text;
      if (cls !== '') td.className = cls;
      return td;
    };
    const nameCell = document.createElement('td');
    if (e.type === 'directory') {
      const open = button(`${e.name}/`, `Open folder ${e.name}`, () => void this.#load(joinPath(this.#dir, e.name)));
      open.className = 'files-name';
      nameCell.append(open);
    } else {
      nameCell.textContent = e.type === 'symlink' ? `${e.name} →` : e.name;
    }
    const actions = document.createElement('td');
    const box = document.createElement('div');
    box.className = 'files-row-actions';
    if (e.type !== 'directory') box.append(button('Download', `Download ${e.name}`, () => void this.#download(e.name)));
    if (this.#write !== false) {
      box.append(
        button('Rename', `Rename ${e.name}`, () => void this.#rename(e.name)),
        button('Delete', `Delete ${e.name}`, () => void this.#delete(e)),
      );
    }
    actions.append(box);
    tr.append(nameCell, cell(e.type === 'directory' ? '' : formatSize(e.size), 'files-size'), cell(formatTime(e.mtime)), cell(formatMode(e.mode, e.type), 'files-mode'), actions);
    return tr;
  }

  async #mkdir(): Promise<void> {
    const name = await this.#names.ask('New folder', 'Create', '');
    if (name === null) return;
    const dir = this.#dir;
    if (await this.#try(() => this.#api.mkdir(joinPath(dir, name)))) await this.#load(dir);
  }

  async #rename(from: string): Promise<void> {
    const name = await this.#names.ask(`Rename "${from}"`, 'Rename', from);
    if (name === null || name === from) return;
    const dir = this.#dir;
    if (await this.#try(() => this.#api.rename(joinPath(dir, from), joinPath(dir, name)))) await this.#load(dir);
  }

  async #delete(e: FileEntry): Promise<void> {
    const what = e.type === 'directory' ? 'folder' : 'file';
    const yes = await this.#opts.confirm({ title: `Delete ${what}?`, text: `This deletes "${e.name}" from ${this.#dir} on the server; it cannot be undone.`, action: 'Delete' });
    if (!yes) return;
    const dir = this.#dir;
    if (await this.#try(() => this.#api.remove(joinPath(dir, e.name)))) await this.#load(dir);
  }

  async #download(name: string): Promise<void> {
    await this.#try(async () => {
      const url = await this.#api.downloadLink(joinPath(this.#dir, name));
      // A link with `download`: the browser's download manager takes the response, the page stays.
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      this.#say(`Downloading ${name}…`);
    });
  }

  #upload(files: readonly File[]): void {
    if (files.length === 0 || !this.#mayUpload()) return;
    void this.#transfers.upload(files, this.#dir, new Set(this.#entries.map((e) => e.name)));
  }

  /** Files and folders (files-tree.ts entries) into the panel's folder. */
  #uploadTree(entries: readonly TreeEntry<File>[]): void {
    if (entries.length === 0 || !this.#mayUpload()) return;
    const existing = new Map(this.#entries.map((e) => [e.name, e.type === 'directory' ? 'folder' as const : 'file' as const]));
    void this.#folders.upload(entries, this.#dir, existing);
  }

  /** An upload may start now; if not, the panel says why. */
  #mayUpload(): boolean {
    if (this.#write === false) {
      this.#say('This session may list and download files, not upload them (read-only).', true);
      return false;
    }
    if (this.#dir === '') {
      this.#say('Open the Files panel first, then drop the files again.', true);
      return false;
    }
    return true;
  }

  /** A drop's files and folders: the folders walked (files-walk.ts); a drop of files only as before. */
  async #dropped(files: readonly File[], roots: readonly WalkEntry<File>[]): Promise<void> {
    if (!roots.some((r) => r.isDirectory)) {
      this.#upload(files);
      return;
    }
    if (!this.#mayUpload()) return;
    this.#say('Reading the dropped folder…');
    const walked = await walkEntries(roots);
    if ('error' in walked) {
      this.#say(walked.error, true);
      return;
    }
    this.#say('');
    this.#uploadTree(walked.entries);
  }

  #dropZone(zone: HTMLElement): void {
    const hasFiles = (ev: DragEvent): boolean => ev.dataTransfer?.types.includes('Files') === true && this.#available;
    zone.addEventListener('dragover', (ev) => {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      if (this.#write !== false) this.#drop.classList.add('dropping');
    });
    zone.addEventListener('dragleave', () => this.#drop.classList.remove('dropping'));
    zone.addEventListener('drop', (ev) => {
      if (!hasFiles(ev)) return;
      ev.preventDefault();
      this.#drop.classList.remove('dropping');
      const files = Array.from(ev.dataTransfer?.files ?? []);
      // The entries only while the event runs; a folder among them is walked afterwards.
      const roots: WalkEntry<File>[] = [];
      for (const item of Array.from(ev.dataTransfer?.items ?? [])) {
        const entry = item.kind === 'file' ? item.webkitGetAsEntry() : null;
        if (entry !== null) roots.push(entry);
      }
      if (this.#dir === '') {
        // Dropped on the terminal before the panel was ever opened: open it, then upload there.
        this.open();
        void this.#load('.').then(() => this.#dropped(files, roots));
        return;
      }
      void this.#dropped(files, roots);
    });
  }
}

function button(text: string, label: string, action: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'btn';
  b.textContent = text;
  b.setAttribute('aria-label', label);
  b.addEventListener('click', action);
  return b;
}
