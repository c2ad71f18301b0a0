/**
 * The recordings table, pure (web/src/recordings-rows.ts and the listing parser of
 * web/src/recordings-api.ts): the filter by user (or gateway identity), target and a range of
 * local days, a running recording's Duration cell, the node that wrote it, and the count line.
 * Days are built with the local Date constructor, so the expectations hold in any time zone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseListing, type RecordingItem } from '../../../web/src/recordings-api.js';
import { countText, durationText, formatDuration, isEmptyFilter, matchesFilter, NO_FILTER, nodeText } from '../../../web/src/recordings-rows.js';

function item(over: Partial<RecordingItem> & { start?: Date }): RecordingItem {
  const start = over.start ?? new Date(2024, 0, 2, 12, 0, 0);
  return {
    name: 'n.cast', node: null, size: 10, mtime: start.toISOString(), timestamp: Math.floor(start.getTime() / 1000), width: 80, height: 24,
    title: null, username: 'alice', target: 'db.example:22', subject: 'ops', duration: 1, live: null, ...over,
  };
}

const day = (y: number, m: number, d: number, h = 12): Date => new Date(y, m - 1, d, h, 0, 0);
const iso = (y: number, m: number, d: number): string => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

void test('user matches part of the SSH user or of the gateway identity, case-insensitive', () => {
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, user: 'ALI' }), true);
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, user: 'op' }), true, 'the gateway identity');
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, user: 'bob' }), false);
  assert.equal(matchesFilter(item({ username: null, subject: null }), { ...NO_FILTER, user: 'a' }), false);
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, user: '  ' }), true, 'blanks are no filter');
});

void test('target matches part of host:port', () => {
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, target: 'DB.' }), true);
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, target: ':22' }), true);
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, target: 'web' }), false);
  assert.equal(matchesFilter(item({ target: null }), { ...NO_FILTER, target: 'db' }), false);
});

void test('from and to are whole local days, both included', () => {
  const early = item({ start: day(2024, 3, 5, 0) });
  const late = item({ start: day(2024, 3, 5, 23) });
  for (const it of [early, late]) {
    assert.equal(matchesFilter(it, { ...NO_FILTER, from: iso(2024, 3, 5), to: iso(2024, 3, 5) }), true);
    assert.equal(matchesFilter(it, { ...NO_FILTER, from: iso(2024, 3, 6) }), false);
    assert.equal(matchesFilter(it, { ...NO_FILTER, to: iso(2024, 3, 4) }), false);
    assert.equal(matchesFilter(it, { ...NO_FILTER, from: iso(2024, 1, 1), to: iso(2024, 12, 31) }), true);
  }
  assert.equal(matchesFilter(item({ timestamp: null, mtime: day(2024, 3, 5).toISOString() }), { ...NO_FILTER, from: iso(2024, 3, 5) }), true, 'mtime when the header has no start');
  assert.equal(matchesFilter(item({ timestamp: null, mtime: '' }), { ...NO_FILTER, from: iso(2024, 3, 5) }), false, 'no start at all');
  assert.equal(matchesFilter(item({}), { ...NO_FILTER, from: 'yesterday' }), true, 'not a date: no filter');
  assert.equal(isEmptyFilter({ ...NO_FILTER, from: 'yesterday', user: ' ' }), true);
  assert.equal(isEmptyFilter({ ...NO_FILTER, to: iso(2024, 3, 5) }), false);
});

void test('a running recording says so instead of a finished length', () => {
  assert.equal(durationText(item({ duration: 1 })), '0:01');
  assert.equal(durationText(item({ duration: 1, live: false })), '0:01');
  assert.equal(durationText(item({ duration: 75, live: true })), 'Running (1:15 so far)');
  assert.equal(durationText(item({ duration: null, live: true })), 'Running');
  assert.equal(formatDuration(3725), '1:02:05');
  assert.equal(formatDuration(null), '—');
});

void test('the listing keeps live only as a boolean', () => {
  const { items } = parseListing({ recordings: [{ name: 'a', live: true }, { name: 'b', live: false }, { name: 'c' }, { name: 'd', live: 'yes' }] });
  assert.deepEqual(items.map((i) => i.live), [true, false, null, null]);
});

void test('the node that wrote a recording: from the listing, shown only in a cluster', () => {
  const { items } = parseListing({ recordings: [{ name: 'a', node: 'gw-2' }, { name: 'b', node: null }, { name: 'c' }, { name: 'd', node: 7 }] });
  assert.deepEqual(items.map((i) => i.node), ['gw-2', null, null, null]);
  assert.equal(nodeText(item({ node: 'gw-2' })), 'on gw-2');
  assert.equal(nodeText(item({})), null, 'one node: nothing to say');
});

void test('the count line', () => {
  assert.equal(countText(0, 0, false, false), 'No recordings yet.');
  assert.equal(countText(1, 1, false, false), '1 recording.');
  assert.equal(countText(3, 3, false, true), '3 recordings (the newest; there are more).');
  assert.equal(countText(1, 3, true, false), 'Showing 1 of 3 recordings.');
});
