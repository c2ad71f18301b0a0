/**
 * Folder uploads' pure parts (web/src/files-tree.ts, web/src/files-walk.ts): picked paths to
 * entries, entries grouped by their top name, one folder planned as mkdirs (parents first) then
 * uploads, the three answers to an existing name, the bounds; and the walk of a dropped folder
 * read in batches, against a tree made here with the members the browser's entries have.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { entriesFromPaths, groupTops, MAX_TREE_ENTRIES, MAX_TREE_LEVELS, planFolder, type Top, type TreeEntry } from '../../../web/src/files-tree.js';
import { walkEntries, type WalkEntry } from '../../../web/src/files-walk.js';

/** A stand-in for a File: its name. */
type F = string;
const picked = (...paths: string[]) => paths.map((path) => ({ path, name: path.split('/').pop() ?? path, file: path }));
const entries = (...paths: string[]): TreeEntry<F>[] => {
  const got = entriesFromPaths(picked(...paths));
  assert.ok('entries' in got, 'error' in got ? got.error : '');
  return got.entries;
};
const folderTop = (tops: Top<F>[], name: string): Top<F> & { kind: 'folder' } => {
  const top = tops.find((t) => t.name === name);
  assert.ok(top !== undefined && top.kind === 'folder', `folder ${name}`);
  return top;
};
const show = (steps: ReadonlyArray<{ kind: string; path: string; overwrite?: boolean; mayExist?: boolean }>): string[] =>
  steps.map((s) => `${s.kind} ${s.path}${s.kind === 'upload' ? (s.overwrite === true ? ' (overwrite)' : '') : (s.mayExist === true ? ' (may exist)' : '')}`);

void test('picked paths: split into names, grouped by the top name in the order met', () => {
  const list = entries('photos/2024/a.jpg', 'photos/b.jpg', 'notes/x y.txt', 'photos/2024/deep/c.jpg');
  assert.deepEqual(list.map((e) => e.segments), [['photos', '2024', 'a.jpg'], ['photos', 'b.jpg'], ['notes', 'x y.txt'], ['photos', '2024', 'deep', 'c.jpg']]);
  const tops = groupTops([...list, { segments: ['lone.txt'], file: 'lone.txt' }]);
  assert.deepEqual(tops.map((t) => `${t.kind} ${t.name}`), ['folder photos', 'folder notes', 'file lone.txt']);
  assert.equal(folderTop(tops, 'photos').entries.length, 3);
  // No relative path: the file by its name alone.
  assert.deepEqual(entriesFromPaths([{ path: '', name: 'plain.txt', file: 'p' }]), { entries: [{ segments: ['plain.txt'], file: 'p' }] });
});

void test('picked paths: a name the server cannot take, or past the bounds, is refused with a sentence and its code', () => {
  const bad = entriesFromPaths(picked('top/../etc/passwd'));
  assert.ok('error' in bad);
  assert.equal(bad.error, '"top/../etc/passwd" has a name that is not usable on the server (FILES_BAD_PATH)');
  const deepPath = ['top', ...Array.from({ length: MAX_TREE_LEVELS }, (_, i) => `d${i}`), 'f.txt'].join('/');
  const deep = entriesFromPaths(picked(deepPath));
  assert.ok('error' in deep && deep.error.startsWith('"top" has more than 10,000 files and folders, or more than 32 levels') && deep.error.endsWith('(FILES_TOO_MANY)'), JSON.stringify(deep));
  // Exactly 32 levels below the top is fine.
  assert.ok('entries' in entriesFromPaths(picked(['top', ...Array.from({ length: MAX_TREE_LEVELS - 1 }, (_, i) => `d${i}`), 'f.txt'].join('/'))));
  // The top folder and its files: MAX_TREE_ENTRIES in all is fine, one more is not.
  const many = (n: number) => Array.from({ length: n }, (_, i) => `big/f${i}`);
  assert.ok('entries' in entriesFromPaths(picked(...many(MAX_TREE_ENTRIES - 1))));
  const over = entriesFromPaths(picked(...many(MAX_TREE_ENTRIES)));
  assert.ok('error' in over && over.error.endsWith('(FILES_TOO_MANY)'));
});

void test('a folder planned: every folder made once, parents first, then each file into its folder', () => {
  const tops = groupTops(entries('tree/sub/deep/c.bin', 'tree/a.txt', 'tree/sub/b.txt', 'tree/other/d.txt'));
  const plan = planFolder('/home/u', folderTop(tops, 'tree'), new Set(['unrelated']), null);
  assert.ok(plan !== null);
  assert.equal(plan.name, 'tree');
  assert.deepEqual(show(plan.steps), [
    'mkdir /home/u/tree',
    'mkdir /home/u/tree/sub',
    'mkdir /home/u/tree/other',
    'mkdir /home/u/tree/sub/deep',
    'upload /home/u/tree/sub/deep/c.bin',
    'upload /home/u/tree/a.txt',
    'upload /home/u/tree/sub/b.txt',
    'upload /home/u/tree/other/d.txt',
  ]);
  const upload = plan.steps.find((s) => s.kind === 'upload');
  assert.ok(upload?.kind === 'upload');
  assert.equal(upload.label, 'tree/sub/deep/c.bin');
  assert.equal(upload.file, 'tree/sub/deep/c.bin');
  // An empty folder (from a walk) is made too; at the root no double slash.
  const walked: TreeEntry<F>[] = [{ segments: ['t'], file: null }, { segments: ['t', 'empty'], file: null }];
  assert.deepEqual(show(planFolder('/', folderTop(groupTops(walked), 't'), new Set(), null)?.steps ?? []), ['mkdir /t', 'mkdir /t/empty']);
});

void test('an existing top name: Merge (replace) into it, Keep both as "name (1)", Skip the whole tree', () => {
  const top = folderTop(groupTops(entries('tree/sub/b.txt', 'tree/a.txt')), 'tree');
  const taken = new Set(['tree', 'tree (1)']);
  const merged = planFolder('/h', top, taken, 'replace');
  assert.deepEqual(show(merged?.steps ?? []), [
    'mkdir /h/tree (may exist)', 'mkdir /h/tree/sub (may exist)', 'upload /h/tree/sub/b.txt (overwrite)', 'upload /h/tree/a.txt (overwrite)',
  ]);
  const both = planFolder('/h', top, taken, 'both');
  assert.equal(both?.name, 'tree (2)');
  assert.deepEqual(show(both?.steps ?? []), ['mkdir /h/tree (2)', 'mkdir /h/tree (2)/sub', 'upload /h/tree (2)/sub/b.txt', 'upload /h/tree (2)/a.txt']);
  const labels = both?.steps.flatMap((s) => (s.kind === 'upload' ? [s.label] : []));
  assert.deepEqual(labels, ['tree (2)/sub/b.txt', 'tree (2)/a.txt']);
  assert.equal(planFolder('/h', top, taken, 'skip'), null);
  // Asked nothing although the name exists: nothing is done (never a silent merge).
  assert.equal(planFolder('/h', top, taken, null), null);
  // A free name: the answer does not matter, nothing merges or overwrites.
  assert.deepEqual(show(planFolder('/h', top, new Set(), 'replace')?.steps ?? []), ['mkdir /h/tree', 'mkdir /h/tree/sub', 'upload /h/tree/sub/b.txt', 'upload /h/tree/a.txt']);
});

/** A tree as the browser's entries: folders answer `readEntries` `batch` at a time, then an empty batch. */
type Spec = { readonly [name: string]: Spec | string };
function tree(name: string, spec: Spec | string, batch: number, reads: { count: number }): WalkEntry<F> {
  if (typeof spec === 'string') return { name, isFile: true, isDirectory: false, file: (ok) => ok(spec) };
  return {
    name, isFile: false, isDirectory: true,
    createReader: () => {
      const children = Object.entries(spec).map(([n, s]) => tree(n, s, batch, reads));
      let at = 0;
      return {
        readEntries: (ok) => {
          reads.count++;
          const next = children.slice(at, at + batch);
          at += next.length;
          // Asynchronously, like the browser.
          queueMicrotask(() => ok(next));
        },
      };
    },
  };
}

void test('a dropped folder walked: every batch read until an empty one, empty folders kept, files in order', async () => {
  const reads = { count: 0 };
  const spec: Spec = { 'a.txt': 'A', sub: { 'b.txt': 'B', 'c.txt': 'C', 'd.txt': 'D', empty: {} }, 'e.txt': 'E' };
  const got = await walkEntries([tree('top', spec, 2, reads), tree('loose.txt', 'L', 2, reads)]);
  assert.ok('entries' in got);
  assert.deepEqual(got.entries.map((e) => `${e.segments.join('/')}${e.file === null ? '/' : `=${e.file}`}`), [
    'top/', 'top/a.txt=A', 'top/sub/', 'top/sub/b.txt=B', 'top/sub/c.txt=C', 'top/sub/d.txt=D', 'top/sub/empty/', 'top/e.txt=E', 'loose.txt=L',
  ]);
  // top: 3 children in 2 batches + the empty one; sub: 4 in 2 + 1; empty: 1.
  assert.equal(reads.count, 3 + 3 + 1);
  const tops = groupTops(got.entries);
  assert.deepEqual(tops.map((t) => `${t.kind} ${t.name}`), ['folder top', 'file loose.txt']);
});

void test('a dropped folder past the bounds or unreadable: a sentence, no entries', async () => {
  const reads = { count: 0 };
  let deep: Spec = { 'f.txt': 'F' };
  for (let i = 0; i <= MAX_TREE_LEVELS; i++) deep = { [`d${i}`]: deep };
  const tooDeep = await walkEntries([tree('top', deep, 100, reads)]);
  assert.ok('error' in tooDeep && tooDeep.error.startsWith('"top" has more than') && tooDeep.error.endsWith('(FILES_TOO_MANY)'));
  const wide: Record<string, string> = {};
  for (let i = 0; i < MAX_TREE_ENTRIES; i++) wide[`f${i}`] = 'x';
  const tooWide = await walkEntries([tree('wide', wide, 100, reads)]);
  assert.ok('error' in tooWide && tooWide.error.startsWith('"wide" has more than 10,000'));
  // One fewer fits (the folder itself is an entry).
  delete wide['f0'];
  const fits = await walkEntries([tree('wide', wide, 100, reads)]);
  assert.ok('entries' in fits && fits.entries.length === MAX_TREE_ENTRIES);
  const broken: WalkEntry<F> = { name: 'top', isFile: false, isDirectory: true, createReader: () => ({ readEntries: (_ok, fail) => fail(new DOMException('gone', 'NotFoundError')) }) };
  assert.deepEqual(await walkEntries([broken]), { error: 'The browser could not read "top" from what was dropped; nothing of "top" was uploaded' });
});
