/**
 * A dropped folder read the way the browser offers it: `DataTransferItem.webkitGetAsEntry()` gives
 * a FileSystemDirectoryEntry, whose reader's `readEntries` answers in batches (Chromium: at most
 * 100 at a time) until an empty one; a FileSystemFileEntry's `file()` gives the File. The walk
 * yields files-tree.ts entries (folders too, so an empty folder is made as well), depth first,
 * and stops past MAX_TREE_ENTRIES entries in all or MAX_TREE_LEVELS levels below a top folder.
 * Written against the few members it uses, so the unit tests walk a tree of their own.
 */
import { MAX_TREE_ENTRIES, MAX_TREE_LEVELS, tooManySentence, type TreeEntry } from './files-tree.js';

export interface WalkReader<F> {
  readEntries(ok: (batch: WalkEntry<F>[]) => void, fail: (err: DOMException) => void): void;
}

/** The members of a FileSystemEntry (file or directory) the walk uses. */
export interface WalkEntry<F> {
  readonly name: string;
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  file?(ok: (file: F) => void, fail: (err: DOMException) => void): void;
  createReader?(): WalkReader<F>;
}

export type WalkResult<F> = { readonly entries: TreeEntry<F>[] } | { readonly error: string };

/** Walk the dropped `roots` (files or folders) into entries, or the sentence why not. */
export async function walkEntries<F>(roots: readonly WalkEntry<F>[]): Promise<WalkResult<F>> {
  const entries: TreeEntry<F>[] = [];
  for (const root of roots) {
    const pending: Array<{ entry: WalkEntry<F>; segments: string[] }> = [{ entry: root, segments: [root.name] }];
    for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
      const { entry, segments } = next;
      if (entries.length >= MAX_TREE_ENTRIES || segments.length - 1 > MAX_TREE_LEVELS) return { error: tooManySentence(root.name) };
      try {
        if (entry.isDirectory && entry.createReader !== undefined) {
          entries.push({ segments, file: null });
          const children = await readAll(entry.createReader(), MAX_TREE_ENTRIES - entries.length);
          if (children === null) return { error: tooManySentence(root.name) };
          // Reversed onto the stack, so that they come off in the order the browser gave them.
          for (const child of children.reverse()) pending.push({ entry: child, segments: [...segments, child.name] });
        } else if (entry.isFile && entry.file !== undefined) {
          const read = entry.file.bind(entry);
          entries.push({ segments, file: await new Promise<F>((resolve, reject) => read(resolve, reject)) });
        }
      } catch {
        return { error: `The browser could not read "${segments.join('/')}" from what was dropped; nothing of "${root.name}" was uploaded` };
      }
    }
  }
  return { entries };
}

/** Every entry of a folder (batch after batch until an empty one), or null past `room`. */
async function readAll<F>(reader: WalkReader<F>, room: number): Promise<WalkEntry<F>[] | null> {
  const all: WalkEntry<F>[] = [];
  for (;;) {
    const batch = await new Promise<WalkEntry<F>[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
    if (all.length > room) return null;
  }
}
