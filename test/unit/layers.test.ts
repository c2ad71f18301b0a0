/**
 * The rooms of src/ import only downwards, in the order docs/architecture.md gives (its `rooms`
 * block, highest first): no file imports a room on its own line or above, and every room of
 * src/ is placed. Reads the TypeScript sources, so it checks what is written, type imports too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** Room of a path relative to src/: `http/` for a file in a folder, `app.ts` for a root file. */
function roomOf(rel: string): string {
  const slash = rel.indexOf('/');
  return slash === -1 ? rel : `${rel.slice(0, slash)}/`;
}

/** Level of each room: 0 is the lowest line of the block. */
function levels(doc: string): Map<string, number> {
  const block = /```rooms\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block !== undefined, 'docs/architecture.md has no ```rooms block');
  const lines = block.split('\n').map((l) => l.trim()).filter((l) => l !== '').reverse();
  const out = new Map<string, number>();
  lines.forEach((line, level) => {
    for (const room of line.split(/\s+/)) out.set(room, level);
  });
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative import specifiers: static (`from '...'`, `import '...'`) and dynamic (`import('...')`). */
function imports(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)) {
    if (m[1] !== undefined) found.push(m[1]);
  }
  return found;
}

void test('every room of src/ is placed in docs/architecture.md', () => {
  const placed = levels(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));
  const rooms = new Set(sources(SRC).map((f) => roomOf(relative(SRC, f))));
  const missing = [...rooms].filter((r) => !placed.has(r));
  assert.deepEqual(missing, [], 'rooms missing from the ```rooms block');
  const gone = [...placed.keys()].filter((r) => !rooms.has(r));
  assert.deepEqual(gone, [], 'rooms in the ```rooms block that src/ no longer has');
});

void test('no file of src/ imports a room on its own line or above', () => {
  const placed = levels(readFileSync(join(ROOT, 'docs/architecture.md'), 'utf8'));
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    const from = roomOf(rel);
    for (const spec of imports(readFileSync(file, 'utf8'))) {
      const target = relative(SRC, normalize(join(dirname(file), spec))).replace(/\.js$/, '.ts');
      const to = roomOf(target);
      if (to === from) continue;
      const a = placed.get(from);
      const b = placed.get(to);
      if (a === undefined || b === undefined || b >= a) violations.push(`${rel} imports ${spec} (${from} -> ${to})`);
    }
  }
  assert.deepEqual(violations, []);
});

void test('the import scan sees static, type-only and dynamic imports', () => {
  const text = "import { a } from './x.js';\nimport type { B } from '../y/z.js';\nconst m = await import('./roles/main.js');\nimport './side.js';\nimport { q } from 'node:fs';";
  assert.deepEqual(imports(text), ['./x.js', '../y/z.js', './roles/main.js', './side.js']);
});
