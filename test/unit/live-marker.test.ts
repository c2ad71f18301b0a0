/**
 * The live marker's pure rules (src/record/live-marker.ts): its name, its text, the start time
 * read from /proc/<pid>/stat, and when a marker means the recording is still being written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMarker, liveMarkerName, markedRecording, parseMarker, procStartTicks, writerLive } from '../../src/record/live-marker.js';

const NAME = `20240102T030405Z-${'e'.repeat(32)}.cast`;

void test('a marker is named after its recording, and only a recording name has one', () => {
  assert.equal(liveMarkerName(NAME), `${NAME}.live`);
  assert.equal(markedRecording(`${NAME}.live`), NAME);
  assert.equal(markedRecording(NAME), null, 'the recording itself is no marker');
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
