/** The sentences of a session picked up after a reload or a reopened tab (web/src/leave-guard.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { graceLeftText, resumedText, resumingText } from '../../../web/src/leave-guard.js';

void test('the resume sentences say whose session and how long the gateway keeps it', () => {
  assert.equal(graceLeftText(1000 + 4 * 60_000, 1000), 'about 4 more minutes');
  assert.equal(graceLeftText(90_000, 0), 'about 2 more minutes');
  assert.equal(graceLeftText(60_000, 0), 'about 1 more minute');
  assert.equal(graceLeftText(45_000, 0), 'about 45 more seconds');
  assert.equal(graceLeftText(5_000, 0), 'a few more seconds');
  assert.equal(graceLeftText(0, 5_000), 'a few more seconds', 'never negative');
  assert.equal(resumingText('a@h:22', 120_000, 0), 'Resuming your session with a@h:22: the gateway keeps it for about 2 more minutes…');
  assert.match(resumedText('a@h:22'), /^Session with a@h:22 resumed/);
});
