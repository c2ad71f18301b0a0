/**
 * The owner's viewers (web/src/watchers.ts): who joined between two `viewers` lists (by id, so a
 * leave or the same list again says nothing) and the toast's sentence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ViewerEntry } from '../../../web/src/messages.js';
import { joinedSentence, joinedViewers, viewerName } from '../../../web/src/watchers.js';

const v = (id: string, subject = '', clientIp = '10.0.0.7'): ViewerEntry => ({ id, subject, clientIp, since: '2026-01-01T00:00:00.000Z', linkId: 'L' });

void test('joinedViewers: the new ids only, in the new list\'s order', () => {
  assert.deepEqual(joinedViewers([], [v('a'), v('b')]).map((x) => x.id), ['a', 'b']);
  assert.deepEqual(joinedViewers([v('a')], [v('a'), v('c')]).map((x) => x.id), ['c']);
  assert.deepEqual(joinedViewers([v('a'), v('b')], [v('b')]), [], 'a leave is no join');
  assert.deepEqual(joinedViewers([v('a')], [v('a')]), [], 'the same list again');
});

void test('the sentence names the viewer by identity and address', () => {
  assert.equal(viewerName(v('a')), 'anonymous (10.0.0.7)');
  assert.equal(viewerName(v('a', 'alice', '')), 'alice (unknown address)');
  assert.equal(joinedSentence([]), null);
  assert.equal(joinedSentence([v('a', 'alice')]), 'alice (10.0.0.7) is now watching your session.');
  assert.equal(joinedSentence([v('a', 'alice'), v('b')]), 'alice (10.0.0.7) and 1 other are now watching your session.');
  assert.equal(joinedSentence([v('a'), v('b'), v('c')]), 'anonymous (10.0.0.7) and 2 others are now watching your session.');
});
