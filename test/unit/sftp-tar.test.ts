/** The folder walk of the tar download (src/ssh/sftp-tar.ts) over a fake SFTP source. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { isBridgeError } from '../../src/errors.js';
import type { FileEntry } from '../../src/ssh/sftp.js';
import { TAR_MAX_DEPTH, tarStream, type TarSource, type TarState } from '../../src/ssh/sftp-tar.js';

const file = (name: string, size: number): FileEntry => ({ name, type: 'file', size, mtime: 1_000_000, mode: 0o100644 });
const dirEntry = (name: string): FileEntry => ({ name, type: 'directory', size: 4096, mtime: 1_000_000, mode: 0o40755 });

/** A source whose files read as `reads[path]` (whatever the listed size). */
function source(dirs: Record<string, FileEntry[]>, reads: Record<string, Buffer>): TarSource & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    entries: async function* (p) {
      await Promise.resolve();
      yield dirs[p] ?? [];
    },
    readlink: () => Promise.resolve('target'),
    read: (p, last) => {
      asked.push(last);
      return Readable.from([(reads[p] ?? Buffer.alloc(0)).subarray(0, last + 1)]);
    },
  };
}

async function collect(src: TarSource, state: TarState): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const b of tarStream(src, '/top', { ...dirEntry('top') }, state)) parts.push(b);
  return Buffer.concat(parts);
}

/** The content of the entry named `name` in a (PAX-free) archive. */
function contentOf(tar: Buffer, name: string): Buffer | undefined {
  for (let at = 0; at + 512 <= tar.length;) {
    const h = tar.subarray(at, at + 512);
    const size = parseInt(h.subarray(124, 136).toString('latin1'), 8) || 0;
    if (h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '') === name) return tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return undefined;
}

void test('a file read as listed: its bytes, one byte past its size asked for, nothing marked', async () => {
  const src = source({ '/top': [file('a', 5), dirEntry('sub'), { ...file('l', 0), type: 'symlink' }, { ...file('fifo', 0), type: 'other' }], '/top/sub': [file('b', 0)] }, { '/top/a': Buffer.from('hello') });
  const state: TarState = { changed: false, entries: 0 };
  const tar = await collect(src, state);
  assert.equal(state.changed, false);
  assert.equal(state.entries, 4, 'the FIFO is skipped');
  assert.deepEqual(src.asked, [5, 0]);
  assert.equal(contentOf(tar, 'top/a')?.toString(), 'hello');
  assert.equal(contentOf(tar, 'top/sub/b')?.length, 0);
  assert.equal(tar.length % 512, 0);
  assert.deepEqual(tar.subarray(-1024), Buffer.alloc(1024));
});

void test('a file that grew is cut, one that shrank is padded, both to the listed size, and marked', async () => {
  for (const [read, want] of [[Buffer.from('hello world'), 'hello'], [Buffer.from('he'), 'he\0\0\0']] as const) {
    const state: TarState = { changed: false, entries: 0 };
    const tar = await collect(source({ '/top': [file('a', 5)] }, { '/top/a': read }), state);
    assert.equal(state.changed, true);
    assert.equal(contentOf(tar, 'top/a')?.toString('latin1'), want);
    assert.equal(tar.length, 512 * 2 + 512 + 1024);
  }
});

void test('past the depth bound the walk stops with FILES_TOO_MANY', async () => {
  const dirs: Record<string, FileEntry[]> = {};
  let p = '/top';
  for (let i = 0; i <= TAR_MAX_DEPTH; i++) {
    dirs[p] = [dirEntry('d')];
    p += '/d';
  }
  await assert.rejects(collect(source(dirs, {}), { changed: false, entries: 0 }), (err) => isBridgeError(err) && err.code === 'FILES_TOO_MANY');
  delete dirs[`/top${'/d'.repeat(TAR_MAX_DEPTH - 1)}`];
  await collect(source(dirs, {}), { changed: false, entries: 0 }); // exactly at the bound: fine
});
