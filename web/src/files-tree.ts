/**
 * Folder uploads (pure): what the browser gives (a dropped folder walked by files-walk.ts, or the
 * "Upload folder…" picker's files with their `webkitRelativePath`) as entries, each a path split
 * into names below the panel's folder; grouped by their top name; and one top folder turned into
 * an ordered list of steps: every folder's mkdir (parents first), then every file's upload into
 * its folder. A top folder whose name exists was asked about (files-dialogs.ts): "replace" merges
 * into it (its folders may exist already, its files of the same name are replaced), "both" makes
 * `name (1)` (files-names.ts `keepBothName`), "skip" skips the whole tree. Bounds: at most
 * MAX_TREE_ENTRIES entries and MAX_TREE_LEVELS levels below the top folder.
 */
import { joinPath, keepBothName, validName } from './files-names.js';

export const MAX_TREE_ENTRIES = 10_000;
export const MAX_TREE_LEVELS = 32;

/** A folder (file null) or a file of an upload: its names from the top one down. */
export interface TreeEntry<F> {
  readonly segments: readonly string[];
  readonly file: F | null;
}

export type Top<F> =
  | { readonly kind: 'file'; readonly name: string; readonly file: F }
  | { readonly kind: 'folder'; readonly name: string; readonly entries: readonly TreeEntry<F>[] };

export type TreeStep<F> =
  /** `mayExist`: a folder being merged into, where FILES_EXISTS is no failure. */
  | { readonly kind: 'mkdir'; readonly path: string; readonly mayExist: boolean }
  /** `label`: the path below the panel's folder, for the transfer's row. */
  | { readonly kind: 'upload'; readonly path: string; readonly label: string; readonly file: F; readonly overwrite: boolean };

export interface FolderPlan<F> {
  /** The name the top folder gets (the dropped one's, or "name (1)"). */
  readonly name: string;
  readonly steps: readonly TreeStep<F>[];
}

/** The sentence for a tree past the bounds (FILES_TOO_MANY, as a folder download past its own). */
export function tooManySentence(top: string): string {
  return `"${top}" has more than ${MAX_TREE_ENTRIES.toLocaleString('en-US')} files and folders, or more than ${MAX_TREE_LEVELS} levels of folders; upload its subfolders one by one (FILES_TOO_MANY)`;
}

/** The sentence for a name the server could not take (a browser gives none normally). */
export function badNameSentence(path: string): string {
  return `"${path}" has a name that is not usable on the server (FILES_BAD_PATH)`;
}

/**
 * The picker's files (`path` their `webkitRelativePath`, e.g. `photos/2024/a.jpg`) as entries,
 * or the sentence refusing them (a bad name, past the bounds). A file without a relative path is
 * taken by its name alone.
 */
export function entriesFromPaths<F>(picked: ReadonlyArray<{ readonly path: string; readonly name: string; readonly file: F }>): { readonly entries: TreeEntry<F>[] } | { readonly error: string } {
  const entries: TreeEntry<F>[] = [];
  const folders = new Set<string>();
  for (const p of picked) {
    const segments = p.path === '' ? [p.name] : p.path.split('/').filter((s) => s !== '');
    if (segments.length === 0 || !segments.every(validName)) return { error: badNameSentence(p.path === '' ? p.name : p.path) };
    if (segments.length - 1 > MAX_TREE_LEVELS) return { error: tooManySentence(segments[0] ?? p.name) };
    // Folders count towards the bound as a walk of the same tree would count them.
    for (let i = 1; i < segments.length; i++) folders.add(segments.slice(0, i).join('/'));
    entries.push({ segments, file: p.file });
    if (entries.length + folders.size > MAX_TREE_ENTRIES) return { error: tooManySentence(segments[0] ?? p.name) };
  }
  return { entries };
}

/** The entries by their top name, in the order first met: a lone file, or a folder with everything below it. */
export function groupTops<F>(entries: readonly TreeEntry<F>[]): Top<F>[] {
  const tops: Array<{ kind: 'file'; name: string; file: F } | { kind: 'folder'; name: string; entries: TreeEntry<F>[] }> = [];
  const folders = new Map<string, TreeEntry<F>[]>();
  for (const e of entries) {
    const [name, ...rest] = e.segments;
    if (name === undefined) continue;
    if (rest.length === 0 && e.file !== null) {
      tops.push({ kind: 'file', name, file: e.file });
      continue;
    }
    let list = folders.get(name);
    if (list === undefined) {
      list = [];
      folders.set(name, list);
      tops.push({ kind: 'folder', name, entries: list });
    }
    list.push(e);
  }
  return tops;
}

/**
 * The steps for one top folder uploaded into `dir`, whose names now are `taken`; `answer` is what
 * was said to an existing name (asked only then; null when the name is free). Null: skipped.
 */
export function planFolder<F>(dir: string, top: Top<F> & { kind: 'folder' }, taken: ReadonlySet<string>, answer: 'replace' | 'both' | 'skip' | null): FolderPlan<F> | null {
  const exists = taken.has(top.name);
  if (exists && (answer === 'skip' || answer === null)) return null;
  const merge = exists && answer === 'replace';
  const name = exists && answer === 'both' ? keepBothName(top.name, taken) : top.name;
  const below = (segments: readonly string[]): string => [name, ...segments.slice(1)].join('/');
  // Every folder, named or implied by a file in it, once; parents before their children.
  const folders: string[][] = [];
  const seen = new Set<string>();
  const addFolder = (segments: readonly string[]): void => {
    for (let i = 1; i <= segments.length; i++) {
      const key = segments.slice(0, i).join('/');
      if (seen.has(key)) continue;
      seen.add(key);
      folders.push(segments.slice(0, i));
    }
  };
  addFolder([top.name]);
  for (const e of top.entries) addFolder(e.file === null ? e.segments : e.segments.slice(0, -1));
  const depth = (s: readonly string[]): number => s.length;
  const ordered = folders.map((s, i) => ({ s, i })).sort((a, b) => depth(a.s) - depth(b.s) || a.i - b.i);
  const steps: TreeStep<F>[] = ordered.map(({ s }) => ({ kind: 'mkdir', path: joinPath(dir, below(s)), mayExist: merge }));
  for (const e of top.entries) {
    if (e.file === null) continue;
    const label = below(e.segments);
    steps.push({ kind: 'upload', path: joinPath(dir, label), label, file: e.file, overwrite: merge });
  }
  return { name, steps };
}
