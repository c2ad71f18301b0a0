/** SFTP failures to catalogue codes, at one boundary (src/ssh/sftp-errors.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeError } from '../../src/errors.js';
import { mapSftpError } from '../../src/ssh/sftp-errors.js';

const status = (code: number, message = 'x'): Error => Object.assign(new Error(message), { code });

void test('statuses map to their codes; the rest is FILES_FAILED with the server\'s text', () => {
  const cases: Array<[number, string]> = [[2, 'FILES_NOT_FOUND'], [3, 'FILES_PERMISSION_DENIED'], [4, 'FILES_FAILED'], [10, 'FILES_NOT_FOUND'], [11, 'FILES_EXISTS'], [14, 'FILES_DISK_FULL'], [15, 'FILES_DISK_FULL'], [18, 'FILES_NOT_EMPTY'], [99, 'FILES_FAILED']];
  for (const [s, code] of cases) assert.equal(mapSftpError(status(s), 'op').code, code, String(s));
  assert.equal(mapSftpError(status(4, 'Failure'), 'write').detail, 'write: Failure');
  assert.ok(mapSftpError(status(2), 'stat').cause instanceof Error, 'the cause is kept');
});

void test('the HTTP side and the session end have their own codes; a BridgeError passes through', () => {
  assert.equal(mapSftpError(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), 'write').code, 'FILES_INCOMPLETE');
  assert.equal(mapSftpError(Object.assign(new Error('closed'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }), 'read').code, 'FILES_INCOMPLETE');
  const abort = new Error('aborted');
  abort.name = 'AbortError';
  assert.equal(mapSftpError(abort, 'write').code, 'FILES_FAILED');
  const own = new BridgeError('FILES_TOO_LARGE');
  assert.equal(mapSftpError(own, 'write'), own);
  assert.equal(mapSftpError('weird', 'x').code, 'FILES_FAILED');
});
