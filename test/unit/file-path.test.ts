/** Paths of the file API (src/protocol/file-path.ts): what is refused before SFTP sees it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBridgeError } from '../../src/errors.js';
import { checkPath, joinPath, splitTarget } from '../../src/protocol/file-path.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (isBridgeError(err)) return err.code;
    throw err;
  }
  return 'ok';
};

void test('checkPath takes what SFTP takes and refuses what is malformed', () => {
  for (const ok of ['.', '/', '/etc/passwd', 'a b/ç ✓', '../up', 'n'.repeat(255), `${'d/'.repeat(2047)}x`]) assert.equal(checkPath(ok), ok);
  assert.equal(codeOf(() => checkPath(null)), 'FILES_BAD_PATH');
  assert.equal(codeOf(() => checkPath('')), 'FILES_BAD_PATH');
  assert.equal(codeOf(() => checkPath('a\0b')), 'FILES_BAD_PATH');
  assert.equal(codeOf(() => checkPath('n'.repeat(256))), 'FILES_NAME_TOO_LONG');
  assert.equal(codeOf(() => checkPath('é'.repeat(128))), 'FILES_NAME_TOO_LONG', '256 bytes in UTF-8');
  assert.equal(codeOf(() => checkPath(`${'d/'.repeat(2048)}x`)), 'FILES_NAME_TOO_LONG', 'over 4096 bytes');
});

void test('splitTarget: the directory and a real last name', () => {
  assert.deepEqual(splitTarget('a.txt'), { dir: '.', name: 'a.txt', path: 'a.txt' });
  assert.deepEqual(splitTarget('/a.txt'), { dir: '/', name: 'a.txt', path: '/a.txt' });
  assert.deepEqual(splitTarget('d/e/f.bin'), { dir: 'd/e', name: 'f.bin', path: 'd/e/f.bin' });
  assert.deepEqual(splitTarget('d/sub/'), { dir: 'd', name: 'sub', path: 'd/sub' });
  for (const bad of ['/', '.', '..', 'd/..', 'd/.']) assert.equal(codeOf(() => splitTarget(bad)), 'FILES_BAD_PATH', bad);
  assert.equal(joinPath('/', 'x'), '/x');
  assert.equal(joinPath('d', 'x'), 'd/x');
});
