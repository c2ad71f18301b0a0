/**
 * The live marker's pure rules (src/record/live-marker.ts): its name, its text, the start time
 * read from /proc/<pid>/stat, the heartbeat's timing, and when a marker means the recording is
 * still being written: by its heartbeat for another node's marker, and also by its process for the
 * listing node's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMarker, liveMarkerName, markedRecording, markerTiming, markerVerdict, parseMarker, procStartTicks, writerLive } from '../../src/record/live-marker.js';

const NAME = `20240102T030405Z-${'e'.repeat(32)}.cast`;

void test('a marker is named after its recording, and only a recording name has one', () => {
  assert.equal(liveMarkerName(NAME), `${NAME}.live`);
  assert.equal(markedRecording(`${NAME}.live`), NAME);
  assert.equal(markedRecording(NAME), null, 'the recording itself is no marker');
  const clustered = `20240102T030405Z-gw-3-${'e'.repeat(32)}.cast`;
  assert.equal(markedRecording(liveMarkerName(clustered)), clustered, 'a node\'s recording has its marker too');
  for (const other of ['notes.txt.live', '.live', `../${NAME}.live`, `${NAME}.live.live`, `${NAME}.LIVE`]) assert.equal(markedRecording(other), null, other);
});

void test('the marker holds the writer; what is not a marker is null', () => {
  const writer = { pid: 4242, start: '8f4e-boot/2145444' };
  assert.deepEqual(parseMarker(formatMarker(writer)), writer);
  assert.deepEqual(parseMarker(formatMarker({ pid: 7, start: null })), { pid: 7, start: null });
  for (const bad of ['', '{"pid":42', 'null', '[42]', '{"start":null}', '{"pid":0,"start":null}', '{"pid":-1,"start":null}',
    '{"pid":1.5,"start":null}', '{"pid":"42","start":null}', '{"pid":42,"start":5}', '{"pid":42,"start":""}', `{"pid":42,"start":"${'x'.repeat(200)}"}`]) {
    assert.equal(parseMarker(bad), null, bad);
  }
});

void test('the start time is field 22 of /proc/<pid>/stat, counted after the command name', () => {
  const stat = '27097 (cat) R 27095 27095 346 0 -1 4194304 98 0 0 0 0 0 0 0 20 0 1 0 2145444 3133440 360 18446744073709551615 0';
  assert.equal(procStartTicks(stat), '2145444');
  assert.equal(procStartTicks(stat.replace('(cat)', '(a) b) (c)')), '2145444', 'a command name with spaces and parentheses');
  assert.equal(procStartTicks('27097 (cat) R 1 2'), null, 'too short');
  assert.equal(procStartTicks('garbage'), null);
});

void test('live while the writer runs; not once it is gone, nor when its id now names another process', () => {
  const writer = { pid: 4242, start: 'boot/100' };
  assert.equal(writerLive(writer, { running: true, start: 'boot/100' }), true);
  assert.equal(writerLive(writer, { running: false }), false, 'the writer died');
  assert.equal(writerLive(writer, { running: true, start: 'boot/999' }), false, 'the id was reused by a later process');
  assert.equal(writerLive(writer, { running: true, start: 'other-boot/100' }), false, 'a process of a later boot');
  assert.equal(writerLive(writer, { running: true, start: null }), true, 'its start unknown now: the id is all there is');
  assert.equal(writerLive({ pid: 4242, start: null }, { running: true, start: 'boot/100' }), true, 'a marker without a start');
});

void test('the heartbeat follows the lease: a touch every third of it (at least 1 s), stale after three', () => {
  assert.deepEqual(markerTiming(15_000), { touchMs: 5000, staleMs: 15_000 }, 'the default --cluster-lease');
  assert.deepEqual(markerTiming(6000), { touchMs: 2000, staleMs: 6000 });
  assert.deepEqual(markerTiming(300), { touchMs: 1000, staleMs: 3000 }, 'a short lease does not make the writers touch more than once a second');
  assert.deepEqual(markerTiming(600_000), { touchMs: 200_000, staleMs: 600_000 });
});

void test('another node\'s marker is live while fresh, whatever its process id; the listing node\'s own also needs its process', () => {
  const writer = { pid: 4242, start: 'boot/100' };
  const now = 1_700_000_000_000;
  const here = { node: 'gw-2', nowMs: now, staleMs: 6000 };
  // Another node: the heartbeat alone (its pid names nothing here).
  assert.equal(markerVerdict({ writer, node: 'gw-3', mtimeMs: now - 1000 }, here), 'live');
  assert.equal(markerVerdict({ writer, node: 'gw-3', mtimeMs: now - 6000 }, here), 'live', 'the bound itself is still fresh');
  assert.equal(markerVerdict({ writer, node: 'gw-3', mtimeMs: now - 6001 }, here), 'dead', 'its writer stopped touching it (killed, host lost)');
  assert.equal(markerVerdict({ writer, node: 'gw-3', mtimeMs: now + 2000 }, here), 'live', 'a writer\'s clock a little ahead');
  assert.equal(markerVerdict({ writer, node: 'gw-3', mtimeMs: now + 60_000 }, here), 'dead', 'far in the future: no marker stays live for ever');
  assert.equal(markerVerdict({ writer, node: 'gw-3', mtimeMs: Number.NaN }, here), 'dead');
  assert.equal(markerVerdict({ writer, node: null, mtimeMs: now }, here), 'live', 'a one-node gateway\'s marker seen from a cluster node: by heartbeat');
  // This node's own: fresh, then its process decides (writerLive); stale is dead even if the process runs.
  assert.equal(markerVerdict({ writer, node: 'gw-2', mtimeMs: now - 1000 }, here), 'ask-writer');
  assert.equal(markerVerdict({ writer, node: 'gw-2', mtimeMs: now - 7000 }, here), 'dead', 'left behind by a process that lives on');
  // One node: its own markers carry no node.
  assert.equal(markerVerdict({ writer, node: null, mtimeMs: now }, { ...here, node: null }), 'ask-writer');
  assert.equal(markerVerdict({ writer, node: 'gw-1', mtimeMs: now }, { ...here, node: null }), 'live', 'a cluster node\'s marker seen from one node: by heartbeat');
  // Not a marker: dead, whoever's and however fresh.
  for (const node of ['gw-2', 'gw-3', null]) assert.equal(markerVerdict({ writer: null, node, mtimeMs: now }, here), 'dead');
});
