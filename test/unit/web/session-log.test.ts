/** The downloaded session log (web/src/session-log.ts): the buffer's text and the file's name. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bufferText, logFileName, type LogBuffer } from '../../../web/src/session-log.js';

/** A buffer of rows; a row starting with '>' continues the one above (wrapped). */
function buffer(rows: readonly string[]): LogBuffer {
  return {
    length: rows.length,
    getLine: (y) => {
      const row = rows[y];
      if (row === undefined) return undefined;
      const wrapped = row.startsWith('>');
      const text = wrapped ? row.slice(1) : row;
      return { isWrapped: wrapped, translateToString: (trim) => (trim === true ? text.replace(/\s+$/, '') : text) };
    },
  };
}

void test('the log: wrapped rows joined (their spaces kept), trailing spaces and empty rows dropped', () => {
  assert.equal(bufferText(buffer(['$ ls  ', 'a b   ', '>c  ', '', 'end', '', '   '])), '$ ls\na b   c\n\nend\n');
  assert.equal(bufferText(buffer(['', ''])), '');
});

void test('the log file name: who and when, only file-name-safe characters', () => {
  const at = new Date(2025, 5, 1, 14, 3, 5);
  assert.equal(logFileName('alice@example.com:22', at), 'webssh-alice@example.com-22-20250601-140305.txt');
  assert.equal(logFileName('bob@[::1]:2222', at), 'webssh-bob@-1-2222-20250601-140305.txt');
  assert.equal(logFileName('', at), 'webssh-session-20250601-140305.txt');
});
