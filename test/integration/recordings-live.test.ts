/**
 * Which recordings are still being written (the listing's `live`, src/record/live-marker.ts):
 * the store against real files and real processes (finished, running, a writer that died, a
 * process id that now names another process, markers that are not markers; in a cluster, another
 * node's markers by their heartbeat); a real bridge's
 * session, live while it runs and not once it ends; and under `--workers 2`, the same answer from
 * either worker, and a worker killed while it records leaves a recording that is not live.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newToken } from '../../src/auth/tokens.js';
import { formatMarker, liveMarkerName } from '../../src/record/live-marker.js';
import { RecordingStore } from '../../src/record/store.js';
import { thisWriter, writerState } from '../../src/record/writer-process.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { setupFake } from '../helpers/fake-session.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh } from '../helpers/ssh-server.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const HEADER = '{"version":2,"width":80,"height":24,"timestamp":1700000000,"title":"u@h:22"}\n[0.5,"o","x"]\n';

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-live-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const nameOf = (n: number, letter: string): string => `2024010${n}T000000Z-${letter.repeat(32)}.cast`;

/** A recording file, with a marker holding `marker` when given. */
function plant(dir: string, name: string, marker?: string): void {
  writeFileSync(join(dir, name), HEADER, { mode: 0o600 });
  if (marker !== undefined) writeFileSync(join(dir, liveMarkerName(name)), marker, { mode: 0o600 });
}

/** A process that has run and exited: its id and start, as a marker written while it ran would hold. */
async function deadWriter(): Promise<string> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], { stdio: 'ignore' });
  const pid = child.pid;
  assert.ok(pid !== undefined);
  const state = await writerState(pid);
  assert.ok(state.running, 'the child runs');
  child.kill('SIGKILL');
  await once(child, 'exit');
  return formatMarker({ pid, start: state.start });
}

interface Entry { name: string; live: unknown; duration: unknown }

function get(base: string, path: string, token: string): Promise<{ status: number; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    // A new connection each time (no keep-alive): under --workers, connections alternate workers.
    const req = request({ host: url.hostname, port: url.port, path, headers: { Authorization: `Bearer ${token}`, Connection: 'close' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function listing(base: string, token: string): Promise<Entry[]> {
  const res = await get(base, '/api/recordings', token);
  assert.equal(res.status, 200, res.body);
  return (JSON.parse(res.body) as { recordings: Entry[] }).recordings;
}

const liveOf = (entries: Entry[], sessionId: string): unknown => entries.find((e) => e.name.endsWith(`-${sessionId}.cast`))?.live;

function adminToken(dir: string): { file: string; token: string } {
  const admin = newToken('ops', true);
  registerSecret(admin.token);
  const file = join(dir, 'tokens');
  writeFileSync(file, `${admin.line}\n`);
  return { file, token: admin.token };
}

/** Log in (v1, the admin token on the upgrade) and wait for the shell; the session id. */
async function openSession(url: string, ssh: { username: string; password: string }, token: string): Promise<{ ws: TestWs; sessionId: string }> {
  const ws = await openWs(url, { protocol: V1, headers: { Authorization: `Bearer ${token}` } });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 80, rows: 24 });
  const ready = (await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { sessionId: string };
  await ws.waitForOutput(FAKE_PROMPT);
  return { ws, sessionId: ready.sessionId };
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`${what}: last ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

void describe('live recordings', () => {
  void it('the store: live only while the marker\'s writer runs', async (t) => {
    const dir = tempDir(t);
    const outside = tempDir(t);
    const running = nameOf(1, 'a');
    const finished = nameOf(2, 'b');
    const died = nameOf(3, 'c');
    const reused = nameOf(4, 'd');
    const garbage = nameOf(5, 'e');
    const linked = nameOf(6, 'f');
    plant(dir, running, formatMarker(thisWriter()));
    plant(dir, finished);
    plant(dir, died, await deadWriter());
    const me = thisWriter();
    assert.ok(me.start !== null, 'this process\'s start is known on Linux (the reused-id case needs it)');
    plant(dir, reused, formatMarker({ pid: me.pid, start: `${me.start}0` }));
    plant(dir, garbage, '{"pid":');
    plant(dir, linked);
    writeFileSync(join(outside, 'marker'), formatMarker(thisWriter()));
    symlinkSync(join(outside, 'marker'), join(dir, liveMarkerName(linked)));
    writeFileSync(join(dir, liveMarkerName(nameOf(7, '0'))), formatMarker(thisWriter())); // a marker without its recording

    const { recordings } = await new RecordingStore(dir, { node: null, staleMs: 15_000 }).list();
    const live = Object.fromEntries(recordings.map((r) => [r.name, r.live]));
    assert.deepEqual(live, {
      [linked]: false, [garbage]: false, [reused]: false, [died]: false, [finished]: false, [running]: true,
    }, 'only the recording whose writer runs; no marker is listed');
    assert.equal(recordings.find((r) => r.name === running)?.duration, 0.5, 'a live entry has its duration so far');
    assert.deepEqual(recordings.map((r) => r.node), recordings.map(() => null), 'one node: no node in the names');
  });

  void it('the store of a cluster node: another node\'s marker by its heartbeat, its own also by its process', async (t) => {
    const dir = tempDir(t);
    const name = (n: number, node: string | null, letter: string): string => `2024010${n}T000000Z-${node === null ? '' : `${node}-`}${letter.repeat(32)}.cast`;
    const dead = await deadWriter();
    const me = formatMarker(thisWriter());
    const other = name(1, 'gw-3', 'a'); // fresh, its pid means nothing here (it names a dead process on this host)
    const otherStale = name(2, 'gw-3', 'b'); // its node stopped touching it
    const mineRunning = name(3, 'gw-2', 'c');
    const mineDied = name(4, 'gw-2', 'd'); // fresh, but its writer is gone
    const mineStale = name(5, 'gw-2', 'e'); // the writer runs, yet stopped touching it: left behind
    const single = name(6, null, 'f'); // a one-node gateway's, fresh
    const otherFinished = name(7, 'gw-1', '0');
    plant(dir, other, dead);
    plant(dir, otherStale, me);
    plant(dir, mineRunning, me);
    plant(dir, mineDied, dead);
    plant(dir, mineStale, me);
    plant(dir, single, dead);
    plant(dir, otherFinished);
    const old = new Date(Date.now() - 60_000);
    for (const n of [otherStale, mineStale]) utimesSync(join(dir, liveMarkerName(n)), old, old);

    const { recordings } = await new RecordingStore(dir, { node: 'gw-2', staleMs: 6000 }).list();
    assert.deepEqual(Object.fromEntries(recordings.map((r) => [r.name, [r.node, r.live]])), {
      [other]: ['gw-3', true], [otherStale]: ['gw-3', false], [mineRunning]: ['gw-2', true], [mineDied]: ['gw-2', false],
      [mineStale]: ['gw-2', false], [single]: [null, true], [otherFinished]: ['gw-1', false],
    });
    // The same directory from gw-3: its own markers are now the ones checked by process.
    const fromGw3 = await new RecordingStore(dir, { node: 'gw-3', staleMs: 6000 }).list();
    assert.deepEqual(Object.fromEntries(fromGw3.recordings.map((r) => [r.name, r.live])), {
      [other]: false, [otherStale]: false, [mineRunning]: true, [mineDied]: true, [mineStale]: false, [single]: true, [otherFinished]: false,
    });
    // Time passes with nobody touching: every marker goes stale, whoever wrote it.
    const later = await new RecordingStore(dir, { node: 'gw-2', staleMs: 6000, now: () => Date.now() + 7000 }).list();
    assert.deepEqual(later.recordings.filter((r) => r.live).map((r) => r.name), []);
  });

  void it('a real session: live while it runs, not once it ended, and its marker is gone', async (t) => {
    const dir = tempDir(t);
    const casts = join(dir, 'casts');
    const { file, token } = adminToken(dir);
    const setup = await setupFake(t, ['--record-dir', casts, '--auth-tokens', file, '--rate-whitelist', '127.0.0.1']);
    const { ws, sessionId } = await openSession(setup.url, setup.ssh, token);
    // The marker is made before the session is ready; the file a moment later (its stream opens asynchronously).
    await until('the recording listed', () => listing(setup.bridge.url, token), (e) => liveOf(e, sessionId) !== undefined);
    assert.equal(liveOf(await listing(setup.bridge.url, token), sessionId), true);
    assert.deepEqual(readdirSync(casts).filter((n) => n.endsWith('.live')).length, 1);
    ws.sendBinary(Buffer.from('exit 0\r'));
    assert.equal((await ws.closed).code, 1000);
    // The session has closed; the file is closed and the marker removed a moment later.
    await until('the recording no longer live', () => listing(setup.bridge.url, token), (e) => liveOf(e, sessionId) === false);
    await until('no marker left', () => Promise.resolve(readdirSync(casts).filter((n) => n.endsWith('.live'))), (m) => m.length === 0);
  });
});

void describe('live recordings (--workers 2)', () => {
  void it('either worker says a session of the other is live; a worker killed while recording leaves it not live', async (t) => {
    const dir = tempDir(t);
    const casts = join(dir, 'casts');
    const { file, token } = adminToken(dir);
    const ssh = await startFakeSsh();
    t.after(() => ssh.close());
    const cli: CliProcess = spawnCli(['--workers', '2', '--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure',
      '--record-dir', casts, '--auth-tokens', file, '--rate-whitelist', '127.0.0.1']);
    t.after(() => cli.close());
    const line = await cli.waitForLog((l) => l['event'] === 'listening' && l['workers'] === 2, 30_000);
    const base = `http://127.0.0.1:${String(line['port'])}`;
    const { ws, sessionId } = await openSession(`ws://127.0.0.1:${String(line['port'])}/ws/127.0.0.1/${ssh.port}`, ssh, token);
    const start = await cli.waitForLog((l) => l['event'] === 'session_start', 15_000);

    await until('the recording listed', () => listing(base, token), (e) => liveOf(e, sessionId) !== undefined);
    for (let i = 0; i < 4; i++) assert.equal(liveOf(await listing(base, token), sessionId), true, `listing ${i}`);
    await cli.waitForLog(() => cli.logs().filter((l) => l['event'] === 'recording_listed').length >= 4, 15_000);
    const listers = new Set(cli.logs().filter((l) => l['event'] === 'recording_listed').map((l) => l['worker']));
    assert.equal(listers.size, 2, 'both workers answered the listing');

    // The writer dies without finishing: its marker stays, and names a process that is gone.
    assert.equal(typeof start['pid'], 'number');
    process.kill(Number(start['pid']), 'SIGKILL');
    await cli.waitForLog((l) => l['event'] === 'worker_exit', 15_000);
    await ws.closed;
    assert.equal(readdirSync(casts).filter((n) => n.endsWith('.live')).length, 1, 'the dead writer\'s marker is still there');
    await cli.waitForLog((l) => l['event'] === 'worker_listening' && l['pid'] !== start['pid'], 30_000);
    for (let i = 0; i < 2; i++) assert.equal(liveOf(await listing(base, token), sessionId), false, `listing after the kill ${i}`);
  });
});
