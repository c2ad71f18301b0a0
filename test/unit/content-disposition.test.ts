/** Content-Disposition of downloads (src/http/content-disposition.ts): RFC 6266 with RFC 5987 for other names. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contentDisposition } from '../../src/http/content-disposition.js';

void test('a printable ASCII name is a plain quoted filename', () => {
  assert.equal(contentDisposition('report 2026.pdf'), 'attachment; filename="report 2026.pdf"');
  assert.equal(contentDisposition('a"b\\c'), 'attachment; filename="a\\"b\\\\c"');
});

void test('any other name also gets filename* in UTF-8 percent-encoding, with an ASCII fallback', () => {
  assert.equal(contentDisposition('héllo ✓.txt'), `attachment; filename="h_llo _.txt"; filename*=UTF-8''h%C3%A9llo%20%E2%9C%93.txt`);
  assert.equal(contentDisposition('tab\there'), `attachment; filename="tab_here"; filename*=UTF-8''tab%09here`);
  assert.equal(contentDisposition("it's (1).txt"), `attachment; filename="it's (1).txt"`);
});
