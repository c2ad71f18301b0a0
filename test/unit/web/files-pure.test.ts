/**
 * The Files panel's pure parts (web/src/files-*.ts): sizes, speed, time left, modes; the error
 * sentences with their codes; paths and "keep both" names; the listing's order; the transfer
 * queue's progress, speed and time left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatEta, formatMode, formatSize, formatSpeed, formatTime } from '../../../web/src/files-format.js';
import { filesErrorText } from '../../../web/src/files-errors.js';
import { isHidden, joinPath, keepBothName, parentPath, validName } from '../../../web/src/files-names.js';
import { nextOrder, sortEntries, type FileEntry } from '../../../web/src/files-sort.js';
import { TransferQueue } from '../../../web/src/files-queue.js';

void test('sizes, speeds and times left read as people write them', () => {
  assert.equal(formatSize(0), '0 B');
  assert.equal(formatSize(1023), '1023 B');
  assert.equal(formatSize(1536), '1.5 KiB');
  assert.equal(formatSize(12 * 1024 * 1024), '12 MiB');
  assert.equal(formatSize(3 * 1024 ** 4), '3.0 TiB');
  assert.equal(formatSize(-1), '');
  assert.equal(formatSpeed(null), '');
  assert.equal(formatSpeed(0), '');
  assert.equal(formatSpeed(2048), '2.0 KiB/s');
  assert.equal(formatEta(null), '');
  assert.equal(formatEta(44.2), '45 s');
  assert.equal(formatEta(185), '3 min 5 s');
  assert.equal(formatEta(7800), '2 h 10 min');
});

void test('modes as ls shows them, special bits included', () => {
  assert.equal(formatMode(0o40755, 'directory'), 'drwxr-xr-x');
  assert.equal(formatMode(0o100644, 'file'), '-rw-r--r--');
  assert.equal(formatMode(0o120777, 'symlink'), 'lrwxrwxrwx');
  assert.equal(formatMode(0o104755, 'file'), '-rwsr-xr-x');
  assert.equal(formatMode(0o41777, 'directory'), 'drwxrwxrwt');
  assert.equal(formatMode(0o102644, 'file'), '-rw-r-Sr--');
  assert.equal(formatMode(0o644, 'other'), '?rw-r--r--');
  assert.match(formatTime(Date.UTC(2026, 11, 7, 12)), /^2026-12-0[67] \d\d:\d\d$/);
  assert.equal(formatTime(Number.NaN), '');
});

void test('errors are sentences ending in their code', () => {
  assert.equal(filesErrorText('FILES_PERMISSION_DENIED'), 'Permission denied (FILES_PERMISSION_DENIED)');
  assert.equal(filesErrorText('FILES_EXISTS'), 'A file or folder of that name exists already (FILES_EXISTS)');
  assert.equal(filesErrorText('FILES_SOMETHING_NEW', 'odd thing'), 'Odd thing (FILES_SOMETHING_NEW)');
  assert.equal(filesErrorText('FILES_SOMETHING_NEW'), 'The request failed (FILES_SOMETHING_NEW)');
  assert.equal(filesErrorText(null, 'no answer'), 'No answer');
  assert.equal(filesErrorText(null), 'The request failed');
  for (const code of ['FILES_DISABLED', 'FILES_UNAVAILABLE', 'FILES_TOKEN_INVALID', 'FILES_WRONG_WORKER', 'FILES_BAD_PATH', 'FILES_NAME_TOO_LONG',
    'FILES_NOT_FOUND', 'FILES_NOT_EMPTY', 'FILES_DISK_FULL', 'FILES_TOO_LARGE', 'FILES_BUSY', 'FILES_INCOMPLETE', 'FILES_FAILED']) {
    const text = filesErrorText(code);
    assert.ok(text.endsWith(` (${code})`) && !text.startsWith('The request failed'), text);
  }
});

void test('paths: join, parent, hidden, valid names', () => {
  assert.equal(joinPath('/home/u', 'a.txt'), '/home/u/a.txt');
  assert.equal(joinPath('/', 'etc'), '/etc');
  assert.equal(parentPath('/home/u'), '/home');
  assert.equal(parentPath('/home/u/'), '/home');
  assert.equal(parentPath('/home'), '/');
  assert.equal(parentPath('/'), '/');
  assert.equal(parentPath('docs'), '.');
  assert.equal(parentPath('.'), '..');
  assert.ok(isHidden('.bashrc') && !isHidden('bashrc'));
  assert.ok(validName('a b') && !validName('') && !validName('..') && !validName('a/b') && !validName('.'));
});

void test('keep both: name (1).ext, counting on past taken names and numbered names', () => {
  assert.equal(keepBothName('a.txt', new Set()), 'a.txt');
  assert.equal(keepBothName('a.txt', new Set(['a.txt'])), 'a (1).txt');
  assert.equal(keepBothName('a.txt', new Set(['a.txt', 'a (1).txt', 'a (2).txt'])), 'a (3).txt');
  assert.equal(keepBothName('a (1).txt', new Set(['a (1).txt'])), 'a (2).txt');
  assert.equal(keepBothName('README', new Set(['README'])), 'README (1)');
  assert.equal(keepBothName('.bashrc', new Set(['.bashrc'])), '.bashrc (1)');
  assert.equal(keepBothName('x.tar.gz', new Set(['x.tar.gz'])), 'x (1).tar.gz');
});

const e = (name: string, type: FileEntry['type'], size: number, mtime: number, mode = 0o644): FileEntry => ({ name, type, size, mtime, mode });

void test('the listing: folders first, then the column either way, dot files only when shown', () => {
  const list = [e('b.txt', 'file', 30, 3), e('.hidden', 'file', 1, 1), e('a10.txt', 'file', 10, 2), e('a9.txt', 'file', 20, 1), e('zdir', 'directory', 4096, 0, 0o755)];
  const names = (o: Parameters<typeof sortEntries>[1], hidden = false): string[] => sortEntries(list, o, hidden).map((x) => x.name);
  assert.deepEqual(names({ key: 'name', descending: false }), ['zdir', 'a9.txt', 'a10.txt', 'b.txt']);
  assert.deepEqual(names({ key: 'name', descending: true }), ['zdir', 'b.txt', 'a10.txt', 'a9.txt']);
  assert.deepEqual(names({ key: 'size', descending: true }), ['zdir', 'b.txt', 'a9.txt', 'a10.txt']);
  assert.deepEqual(names({ key: 'mtime', descending: false }, true), ['zdir', '.hidden', 'a9.txt', 'a10.txt', 'b.txt']);
  assert.deepEqual(nextOrder({ key: 'name', descending: false }, 'name'), { key: 'name', descending: true });
  assert.deepEqual(nextOrder({ key: 'name', descending: false }, 'size'), { key: 'size', descending: true });
  assert.deepEqual(nextOrder({ key: 'size', descending: true }, 'mode'), { key: 'mode', descending: false });
});

void test('the queue: progress, speed over recent samples, time left, ends and the running count', () => {
  const q = new TransferQueue();
  const a = q.add('a.bin', 'upload', 1000, 0);
  const b = q.add('b.bin', 'upload', 500, 0);
  assert.equal(q.running, 2);
  assert.equal(q.get(a)?.speed, null);
  q.progress(a, 200, 1000);
  assert.equal(q.get(a)?.speed, 200);
  assert.equal(q.get(a)?.eta, 4);
  // Samples older than 3 s leave the window: the speed follows the recent rate.
  q.progress(a, 300, 5000);
  q.progress(a, 400, 6000);
  assert.equal(q.get(a)?.speed, 100);
  assert.equal(q.get(a)?.eta, 6);
  q.finish(a);
  assert.equal(q.get(a)?.state, 'done');
  assert.equal(q.get(a)?.sent, 1000);
  q.progress(a, 10, 7000);
  assert.equal(q.get(a)?.sent, 1000, 'an ended transfer does not move');
  q.cancel(b);
  q.fail(b, 'late');
  assert.equal(q.get(b)?.state, 'cancelled');
  const c = q.add('c.bin', 'download', 10, 0);
  q.fail(c, 'Permission denied (FILES_PERMISSION_DENIED)');
  assert.equal(q.get(c)?.error, 'Permission denied (FILES_PERMISSION_DENIED)');
  assert.equal(q.running, 0);
  assert.deepEqual(q.list().map((t) => t.id), [a, b, c]);
  q.clearEnded();
  assert.deepEqual(q.list(), []);
});
