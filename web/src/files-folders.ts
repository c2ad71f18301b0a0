/**
 * An upload of files and folders into the panel's folder (files-tree.ts plans it): the lone files
 * go to files-transfers.ts as before (each existing name asked about); each folder whose name
 * exists is asked about once (Merge / Keep both / Skip, files-dialogs.ts), then its folders are
 * made one after the other through the mkdir API (parents first), then its files are queued, each
 * into its folder. A mkdir that fails stops that folder's upload with the refusal's sentence.
 * While merging, a folder is made only if its parent's listing lacks it (each parent listed once,
 * and not at all when it was made just now), so no request is refused for an existing name.
 */
import type { ConflictDialog } from './files-dialogs.js';
import { FilesError, type FilesApi } from './files-api.js';
import { keepBothName, parentPath } from './files-names.js';
import type { FileTransfers, QueuedUpload } from './files-transfers.js';
import { groupTops, planFolder, type TreeEntry } from './files-tree.js';

export interface FolderUploadsOptions {
  readonly api: FilesApi;
  readonly conflicts: ConflictDialog;
  readonly transfers: FileTransfers;
  /** Show a sentence in the panel ('' clears it). */
  readonly say: (text: string, error: boolean) => void;
  /** Something new is in `dir` (a folder made): list it again if shown. */
  readonly changed: (dir: string) => void;
}

export class FolderUploads {
  readonly #opts: FolderUploadsOptions;
  /** Counts cancels (the session ended): an upload begun before one stops. */
  #generation = 0;

  constructor(opts: FolderUploadsOptions) {
    this.#opts = opts;
  }

  /** Upload `entries` into `dir`, whose names now are `existing` (each a folder or not). */
  async upload(entries: readonly TreeEntry<File>[], dir: string, existing: ReadonlyMap<string, 'folder' | 'file'>): Promise<void> {
    const { transfers, conflicts } = this.#opts;
    const generation = this.#generation;
    const current = (): boolean => generation === this.#generation;
    const tops = groupTops(entries);
    const files = tops.flatMap((t) => (t.kind === 'file' ? [t.file] : []));
    const taken = await transfers.upload(files, dir, new Set(existing.keys()));
    for (const top of tops) {
      if (top.kind !== 'folder' || !current()) continue;
      const answer = taken.has(top.name)
        ? await conflicts.ask(top.name, dir, keepBothName(top.name, taken), 'folder', existing.get(top.name) === 'folder' ? 'folder' : 'file')
        : null;
      // A folder over a file cannot merge (the dialog offers no Merge; Escape is a skip).
      const plan = planFolder(dir, top, taken, answer === 'replace' && existing.get(top.name) !== 'folder' ? 'skip' : answer);
      if (plan === null) continue;
      taken.add(plan.name);
      const uploads: QueuedUpload[] = [];
      const folders = new Folders(this.#opts.api);
      let made = true;
      for (const step of plan.steps) {
        if (step.kind === 'upload') {
          uploads.push({ file: step.file, label: step.label, path: step.path, overwrite: step.overwrite, folder: parentPath(step.path) });
          continue;
        }
        made = current() && await this.#mkdir(folders, step.path, step.mayExist, plan.name);
        if (!made) break;
      }
      if (!current()) return;
      this.#opts.changed(dir);
      if (made) transfers.enqueue(uploads);
    }
  }

  /** The session ended: what is still being asked about or made queues nothing. */
  cancel(): void {
    this.#generation++;
  }

  /** Make `path`; false (the sentence shown) when it failed. */
  async #mkdir(folders: Folders, path: string, mayExist: boolean, top: string): Promise<boolean> {
    try {
      if (mayExist && await folders.has(path)) return true;
      await this.#opts.api.mkdir(path);
      folders.made(path);
      return true;
    } catch (err) {
      this.#opts.say(`The folder ${path} could not be made, so no file of "${top}" was uploaded: ${err instanceof FilesError ? err.text : String(err)}`, true);
      return false;
    }
  }
}

/** Which folders exist, for a merge: a parent's listing asked once; a folder made here has no subfolders. */
class Folders {
  readonly #api: FilesApi;
  readonly #made = new Set<string>();
  readonly #listed = new Map<string, ReadonlySet<string>>();

  constructor(api: FilesApi) {
    this.#api = api;
  }

  made(path: string): void {
    this.#made.add(path);
  }

  async has(path: string): Promise<boolean> {
    const parent = parentPath(path);
    if (this.#made.has(parent)) return false;
    let names = this.#listed.get(parent);
    if (names === undefined) {
      const listing = await this.#api.list(parent);
      names = new Set(listing.entries.filter((e) => e.type === 'directory').map((e) => e.name));
      this.#listed.set(parent, names);
    }
    return names.has(path.slice(path.lastIndexOf('/') + 1));
  }
}
