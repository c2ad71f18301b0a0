/** The full-disk decision behind OpenSSH's plain failure (src/ssh/sftp-space.ts); the I/O runs against real sshd in files-disk-full.test.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { BridgeError } from '../../src/errors.js';
import { mapSftpError } from '../../src/ssh/sftp-errors.js';
import { declaredLength, diskFullDetail, isPlainFailure } from '../../src/ssh/sftp-space.js';

const CHUNK = 64 * 1024;
const status = (code: number): Error => Object.assign(new Error('Failure'), { code });

void test('free space below one chunk is a full disk, whatever the upload', () => {
  assert.equal(diskFullDetail({ f_bavail: 0, f_frsize: 4096 }, { declared: null, passed: 1_000_000, chunk: CHUNK }), 'write: 0 bytes free on the server\'s filesystem');
  assert.equal(diskFullDetail({ f_bavail: 15, f_frsize: 4096 }, { declared: 10, passed: 5, chunk: CHUNK }), 'write: 61440 bytes free on the server\'s filesystem');
  assert.equal(diskFullDetail({ f_bavail: 16, f_frsize: 4096 }, { declared: null, passed: 5, chunk: CHUNK }), null, 'exactly one chunk free: not full');
});

void test('free space below what the declared body still needed is a full disk; room enough is not', () => {
  const space = { f_bavail: 1000, f_frsize: 4096 }; // 4,096,000 bytes
  assert.equal(diskFullDetail(space, { declared: 10_000_000, passed: 1_000_000, chunk: CHUNK }), 'write: 4096000 bytes free on the server\'s filesystem');
  assert.equal(diskFullDetail(space, { declared: 5_000_000, passed: 1_000_000, chunk: CHUNK }), null, '4,000,000 still needed, 4,096,000 free');
  assert.equal(diskFullDetail(space, { declared: null, passed: 1_000_000, chunk: CHUNK }), null, 'a chunked body: only the chunk counts');
});

void test('bigint figures (ssh2 with biOpt) count the same; nonsense is no decision', () => {
  assert.equal(diskFullDetail({ f_bavail: 2n, f_frsize: 1024n }, { declared: null, passed: 0, chunk: CHUNK }), 'write: 2048 bytes free on the server\'s filesystem');
  assert.equal(diskFullDetail({ f_bavail: Number.NaN, f_frsize: 4096 }, { declared: null, passed: 0, chunk: CHUNK }), null);
});

void test('only the server\'s plain failure (status 4) asks for the free space, raw or mapped', () => {
  assert.ok(isPlainFailure(status(4)));
  assert.ok(isPlainFailure(mapSftpError(status(4), 'rename')), 'the rename\'s FILES_FAILED keeps its cause');
  assert.ok(!isPlainFailure(status(3)));
  assert.ok(!isPlainFailure(mapSftpError(status(3), 'write')));
  assert.ok(!isPlainFailure(new BridgeError('FILES_TOO_LARGE', 'over 1 bytes')));
  assert.ok(!isPlainFailure(Object.assign(new Error('reset'), { code: 'ECONNRESET' })));
  assert.ok(!isPlainFailure(undefined));
  const aborted = new Error('aborted');
  aborted.name = 'AbortError';
  assert.ok(!isPlainFailure(mapSftpError(aborted, 'write')));
});

void test('the declared length comes from an HTTP request\'s Content-Length only', () => {
  const req = new IncomingMessage(new Socket());
  req.headers['content-length'] = '2097152';
  assert.equal(declaredLength(req), 2_097_152);
  const chunked = new IncomingMessage(new Socket());
  assert.equal(declaredLength(chunked), null);
  chunked.headers['content-length'] = 'x';
  assert.equal(declaredLength(chunked), null);
  assert.equal(declaredLength(Readable.from([])), null);
});
