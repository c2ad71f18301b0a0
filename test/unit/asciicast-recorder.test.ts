/**
 * The file side of recording (src/record/recorder.ts): the record directory check, file names
 * (with the node id on a node of a cluster), the live marker's heartbeat, modes, the logged
 * outcome, and a failure that stops only the recording.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { ANONYMOUS } from '../../src/auth/identity.js';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/types.js';
import { createLogger, type Logger } from '../../src/log.js';
import { fileStamp, prepareRecordDir, Recorder, RecordSetupError, type RecordingInfo } from '../../src/record/recorder.js';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-rec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function config(flags: string[]): Config {
  const r = loadConfig(flags, {});
  assert.equal(r.kind, 'config');
  return r.config;
}

function logger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  let text = '';
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { text += chunk.toString(); cb(); } });
  return { log: createLogger(true, sink), lines: () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const INFO: RecordingInfo = {
  sessionId: '0123456789abcdef0123456789abcdef', username: 'alice', host: 'fd00::1', port: 2222, route: ['ops@bastion.example:22', 'bob@[fd00::7]:2222'], clientIp: '192.0.2.9',
  identity: ANONYMOUS, protocol: 'v1', term: 'xterm', cols: 100, rows: 30,
};

void describe('record directory', () => {
  void it('is created with mode 0700 (parents too) when missing', (t) => {
    const base = tempDir(t);
    const dir = join(base, 'a', 'casts');
    const r = prepareRecordDir(dir);
    assert.equal(r.dir, dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(r.permissive, false);
    assert.deepEqual(readdirSync(dir), [], 'the write probe leaves nothing behind');
  });

  void it('an existing directory is kept as it is; group or world access is reported', (t) => {
    const dir = tempDir(t);
    chmodSync(dir, 0o755);
    assert.equal(prepareRecordDir(dir).permissive, true);
    assert.equal(statSync(dir).mode & 0o777, 0o755);
  });

  void it('a path that is a file, or under a file, is a RecordSetupError naming the option and path', (t) => {
    const base = tempDir(t);
    const file = join(base, 'plain');
    writeFileSync(file, '');
    for (const dir of [file, join(file, 'sub')]) {
      assert.throws(() => prepareRecordDir(dir), (err: unknown) => {
        assert.ok(err instanceof RecordSetupError);
        assert.match(err.message, new RegExp(`^record-dir ${dir}: `));
        return true;
      });
    }
    assert.throws(() => Recorder.fromConfig(config(['--record-dir', join(file, 'x')]), logger().log), RecordSetupError);
  });

  void it('an unwritable directory is refused (a 0555 directory, or for root the sysfs, which refuses even root)', (t) => {
    const base = tempDir(t);
    const dir = join(base, 'read-only');
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    if (process.getuid?.() !== 0) {
      // A non-root cleanup cannot remove what it cannot write; hooks run in order, so restore first.
      const restore = (): void => chmodSync(dir, 0o700);
      try {
        assert.throws(() => prepareRecordDir(dir), /cannot write a file there \(EACCES\)/);
      } finally {
        restore();
      }
      return;
    }
    // Root writes anywhere a mode allows nothing; sysfs refuses new files even to root (EACCES).
    assert.throws(() => prepareRecordDir('/sys/kernel'), /cannot write a file there \(EACCES\)/);
  });

  void it('recording is off without --record-dir', () => {
    assert.equal(Recorder.fromConfig(config([]), logger().log), null);
  });
});

void describe('session recording file', () => {
  void it('names the file YYYYMMDDTHHMMSSZ-<session>.cast, mode 0600, and logs start and finish with the byte count', async (t) => {
    const dir = tempDir(t);
    const { log, lines } = logger();
    const recorder = Recorder.fromConfig(config(['--record-dir', dir, '--record-input']), log);
    assert.ok(recorder !== null);
    const rec = recorder.start(INFO, log);
    assert.ok(rec !== undefined);
    assert.equal(recorder.openCount, 1);
    rec.output(Buffer.from('hello '));
    rec.output(Buffer.from([0xe2, 0x82]));
    rec.output(Buffer.from([0xac, 0x0d, 0x0a]));
    rec.input(Buffer.from('q'));
    rec.resize(120, 40);
    await rec.close();
    await rec.close();
    assert.equal(recorder.openCount, 0);
    const names = readdirSync(dir);
    assert.equal(names.length, 1);
    const name = names[0] ?? '';
    assert.match(name, /^\d{8}T\d{6}Z-0123456789abcdef0123456789abcdef\.cast$/);
    const path = join(dir, name);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const text = readFileSync(path, 'utf8');
    const [head, ...events] = text.trimEnd().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.deepEqual(head, {
      version: 2, width: 100, height: 30, timestamp: (head as { timestamp: number }).timestamp, env: { TERM: 'xterm' }, title: 'alice@[fd00::1]:2222',
      webssh_bridge: { session: INFO.sessionId, client_ip: '192.0.2.9', auth_method: 'none', subject: 'anonymous', protocol: 'v1', route: ['ops@bastion.example:22', 'bob@[fd00::7]:2222'] },
    });
    assert.ok(Math.abs((head as { timestamp: number }).timestamp - Date.now() / 1000) < 60);
    assert.deepEqual(events.map((e) => (e as unknown[]).slice(1)), [['o', 'hello '], ['o', '€\r\n'], ['i', 'q'], ['r', '120x40']]);
    const started = lines().find((l) => l.event === 'recording_started');
    const finished = lines().find((l) => l.event === 'recording_finished');
    assert.equal(started?.file, path);
    assert.equal(finished?.file, path);
    assert.equal(finished?.bytes, Buffer.byteLength(text));
    assert.equal(finished?.truncated, null);
  });

  void it('on a node of a cluster the name carries the node id, and the live marker is touched while the file is open', async (t) => {
    const dir = tempDir(t);
    const { log } = logger();
    // The Recorder only reads the options: nothing connects to this Redis. A 3 s lease: a touch every second.
    const recorder = Recorder.fromConfig(config(['--record-dir', dir, '--cluster-redis', 'redis://127.0.0.1:1', '--cluster-secret-file', '/nonexistent/keyring', '--node-id', 'gw-2', '--cluster-lease', '3s']), log);
    assert.ok(recorder !== null);
    assert.equal(recorder.node, 'gw-2');
    const rec = recorder.start(INFO, log);
    assert.ok(rec !== undefined);
    // The marker is made before start() returns; the file a moment later (its stream opens asynchronously).
    const name = (readdirSync(dir).find((n) => n.endsWith('.cast.live')) ?? '').slice(0, -'.live'.length);
    assert.match(name, /^\d{8}T\d{6}Z-gw-2-0123456789abcdef0123456789abcdef\.cast$/);
    const marker = join(dir, `${name}.live`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(marker, old, old);
    const deadline = Date.now() + 5000;
    while (statSync(marker).mtimeMs < Date.now() - 30_000) {
      assert.ok(Date.now() < deadline, 'the marker was touched within a touch period');
      await new Promise((r) => setTimeout(r, 100));
    }
    await rec.close();
    assert.deepEqual(readdirSync(dir), [name], 'the marker is gone with the recording');
    // Without --cluster-redis, --node-id means nothing: the names of one node.
    const single = Recorder.fromConfig(config(['--record-dir', dir, '--node-id', 'gw-2']), log);
    assert.equal(single?.node, null);
  });

  void it('input is dropped unless --record-input; the filter decides which sessions get a file', async (t) => {
    const dir = tempDir(t);
    const { log } = logger();
    const recorder = Recorder.fromConfig(config(['--record-dir', dir, '--record-filter', 'user:bob,target:*:22']), log);
    assert.ok(recorder !== null);
    assert.equal(recorder.start(INFO, log), undefined, 'alice to port 2222 matches neither rule');
    assert.deepEqual(readdirSync(dir), []);
    const rec = recorder.start({ ...INFO, port: 22 }, log);
    assert.ok(rec !== undefined);
    rec.input(Buffer.from('secret typing'));
    await rec.close();
    const text = readFileSync(join(dir, readdirSync(dir)[0] ?? ''), 'utf8');
    assert.ok(!text.includes('secret typing'));
  });

  void it('a recording that cannot be started (the directory is gone) logs recording_failed once, and there is none', (t) => {
    const dir = tempDir(t);
    const { log, lines } = logger();
    const recorder = Recorder.fromConfig(config(['--record-dir', join(dir, 'casts')]), log);
    assert.ok(recorder !== null);
    rmSync(join(dir, 'casts'), { recursive: true });
    assert.equal(recorder.start(INFO, log), undefined);
    const failed = lines().filter((l) => l.event === 'recording_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.error, 'ENOENT');
    assert.equal(lines().filter((l) => l.event === 'recording_finished').length, 0);
    assert.equal(recorder.openCount, 0);
  });

  void it('a file that cannot be created logs recording_failed once; the calls go on harmlessly and no marker is left', async (t) => {
    const dir = tempDir(t);
    const { log, lines } = logger();
    const recorder = Recorder.fromConfig(config(['--record-dir', dir]), log);
    assert.ok(recorder !== null);
    // A directory under every name the next few seconds could produce: the marker is made, the file cannot be.
    const now = Date.now();
    for (let s = -1; s <= 3; s++) mkdirSync(join(dir, `${fileStamp(new Date(now + s * 1000))}-${INFO.sessionId}.cast`));
    const rec = recorder.start(INFO, log);
    assert.ok(rec !== undefined);
    rec.output(Buffer.from('lost'));
    await new Promise((r) => setTimeout(r, 50));
    rec.output(Buffer.from('more'));
    rec.resize(1, 1);
    await rec.close();
    const failed = lines().filter((l) => l.event === 'recording_failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.error, 'EEXIST');
    assert.equal(lines().filter((l) => l.event === 'recording_finished').length, 0);
    assert.equal(recorder.openCount, 0);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.live')), [], 'the marker went with the failed recording');
  });

  void it('a name that already exists is never overwritten', async (t) => {
    const dir = tempDir(t);
    const { log, lines } = logger();
    const recorder = Recorder.fromConfig(config(['--record-dir', dir]), log);
    assert.ok(recorder !== null);
    // Plant files under every name the next few seconds could produce.
    const now = Date.now();
    for (let s = -1; s <= 3; s++) writeFileSync(join(dir, `${fileStamp(new Date(now + s * 1000))}-${INFO.sessionId}.cast`), 'precious');
    const rec = recorder.start(INFO, log);
    await rec?.close();
    for (const name of readdirSync(dir)) assert.equal(readFileSync(join(dir, name), 'utf8'), 'precious');
    assert.equal(lines().filter((l) => l.event === 'recording_failed')[0]?.error, 'EEXIST');
  });

  void it('closeAll waits for every open file', async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'c'));
    const { log } = logger();
    const recorder = Recorder.fromConfig(config(['--record-dir', join(dir, 'c')]), log);
    assert.ok(recorder !== null);
    const recs = [0, 1, 2].map((i) => recorder.start({ ...INFO, sessionId: `s${i}` }, log));
    for (const r of recs) r?.output(Buffer.from('x'.repeat(100_000)));
    await recorder.closeAll(log);
    assert.equal(recorder.openCount, 0);
    for (const name of readdirSync(join(dir, 'c'))) assert.ok(statSync(join(dir, 'c', name)).size > 100_000);
  });
});
