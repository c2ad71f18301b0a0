/** A long error's layout (web/src/alert-lines.ts): a title, lines, fingerprints on lines of their own. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alertLines } from '../../../web/src/alert-lines.js';

void test('a one-line error is text; a multi-line one is a title, lines and fingerprints', () => {
  assert.deepEqual(alertLines('Authentication failed.'), [{ kind: 'text', text: 'Authentication failed.' }]);
  assert.deepEqual(alertLines('WARNING: changed.\nCause.\nStored key: SHA256:abc+/d= (ssh-rsa)\nPresented key: SHA256:xyz\nAdvice: ask.'), [
    { kind: 'title', text: 'WARNING: changed.' },
    { kind: 'text', text: 'Cause.' },
    { kind: 'fingerprint', label: 'Stored key', value: 'SHA256:abc+/d= (ssh-rsa)' },
    { kind: 'fingerprint', label: 'Presented key', value: 'SHA256:xyz' },
    { kind: 'text', text: 'Advice: ask.' },
  ]);
});

