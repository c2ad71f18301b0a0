/**
 * Session recording (--record-dir) end to end: in-process bridges against the fake ssh2 server,
 * the CLI (exit 2 for an unusable directory, --workers 2), and real OpenSSH with multi-byte
 * output. The reference tool (`asciinema cat`, Debian's asciinema 2.2) must print exactly the
 * output the client received. Each recording is checked as asciicast v2 and replayed into a headless xterm.js, whose
 * screen must equal that of a terminal fed with the bytes the WebSocket client received.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xtermHeadless from '@xterm/headless';
import type { BridgeHandle } from '../helpers/bridge.js';
import { startBridge } from '../helpers/bridge.js';
import { runCli, spawnCli } from '../helpers/cli.js';
import { seedLogin, setupFake } from '../helpers/fake-session.js';
import { ASCIINEMA_PATH, asciinemaAvailable, requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { execFileSync } from 'node:child_process';
import { leakedSecrets, registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh } from '../helpers/ssh-server.js';
import { startSshd, TEST_PROMPT } from '../helpers/sshd.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const { Terminal } = xtermHeadless;
type Term = InstanceType<typeof Terminal>;

const V1 = 'webssh-bridge.v1';
const KI_ANSWER = registerSecret('ki-Record-secret-55');

interface Header {
  version: number;
  width: number;
  height: number;
  timestamp: number;
  env: { TERM: string };
  title: string;
  webssh_bridge: { session: string; client_ip: string; subject: string; auth_method: string; protocol: string };
}
type Event = [number, string, string];

interface Cast {
  readonly path: string;
  readonly text: string;
  readonly header: Header;
  readonly events: Event[];
  readonly output: string;
  readonly input: string;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const castFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.cast'));

/** Parse a recording, checking the asciicast v2 shape of every line on the way. */
function readCast(path: string): Cast {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a complete line');
  const lines = text.slice(0, -1).split('\n');
  const header = JSON.parse(lines[0] ?? '') as Header;
  assert.equal(header.version, 2);
  const events = lines.slice(1).map((l) => JSON.parse(l) as Event);
  let last = 0;
  for (const e of events) {
    assert.equal(e.length, 3, JSON.stringify(e));
    assert.equal(typeof e[0], 'number');
    assert.ok(e[0] >= last, `times never decrease: ${e[0]} after ${last}`);
    last = e[0];
    assert.ok(['o', 'i', 'r', 'm'].includes(e[1]), `event code ${e[1]}`);
    assert.equal(typeof e[2], 'string');
  }
  const join = (code: string): string => events.filter((e) => e[1] === code).map((e) => e[2]).join('');
  return { path, text, header, events, output: join('o'), input: join('i') };
}

async function waitForLog(bridge: BridgeHandle, pred: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const hit = bridge.logs().find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > end) assert.fail(`no matching log line within ${timeoutMs} ms; logs:\n${bridge.logText().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The one recording of a bridge, once its file is closed. */
async function onlyCast(bridge: BridgeHandle, dir: string): Promise<Cast> {
  await waitForLog(bridge, (l) => l.event === 'recording_finished');
  const files = castFiles(dir);
  assert.equal(files.length, 1, `one recording: ${files.join(', ')}`);
  return readCast(join(dir, files[0] ?? ''));
}

function newTerm(cols: number, rows: number): Term {
  return new Terminal({ cols, rows, allowProposedApi: true, scrollback: 1000 });
}

function write(term: Term, data: string): Promise<void> {
  return new Promise((resolve) => term.write(data, resolve));
}

/** Every line of the buffer (scrollback included), trailing blanks trimmed, plus the cursor. */
function screen(term: Term): string {
  const buf = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
  return `${lines.join('\n')}\ncursor ${buf.cursorX},${buf.cursorY}`;
}

/** Replay a recording: "o" written, "r" applied once everything before it is parsed. */
async function replay(cast: Cast): Promise<string> {
  const term = newTerm(cast.header.width, cast.header.height);
  try {
    for (const [, code, data] of cast.events) {
      if (code === 'o') await write(term, data);
      else if (code === 'r') {
        const [cols, rows] = data.split('x').map(Number);
        term.resize(cols ?? 0, rows ?? 0);
      }
    }
    return screen(term);
  } finally {
    term.dispose();
  }
}

const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;

void describe('session recording (fake SSH server)', () => {
  void it('a scripted v1 session is one valid 0600 .cast file whose replay shows what the client saw', async (t) => {
    const dir = tempDir(t);
    const { ssh, bridge, url } = await setupFake(t, ['--record-dir', dir]);
    const ws = await openWs(url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 90, rows: 20, term: 'xterm-256color' });
    const ready = (await ws.waitForControl(isType('ready'))) as { sessionId: string };
    await ws.waitForOutput(FAKE_PROMPT);
    ws.sendBinary(Buffer.from('count 5\r'));
    await ws.waitForOutput(/5\r\nfake\$ $/);
    ws.sendBinary(Buffer.from('héllo wörld € 😀\r'));
    await ws.waitForOutput(/😀\r\nfake\$ $/);
    const beforeResize = ws.output().length;
    ws.sendJson({ type: 'resize', cols: 60, rows: 15 });
    ws.sendBinary(Buffer.from('size\r'));
    await ws.waitForOutput('15 60');
    ws.sendBinary(Buffer.from('exit 0\r'));
    assert.equal((await ws.closed).code, 1000);
    const cast = await onlyCast(bridge, dir);

    assert.match(castFiles(dir)[0] ?? '', new RegExp(`^\\d{8}T\\d{6}Z-${ready.sessionId}\\.cast$`));
    assert.equal(statSync(cast.path).mode & 0o777, 0o600);
    assert.equal(cast.header.width, 90);
    assert.equal(cast.header.height, 20);
    assert.deepEqual(cast.header.env, { TERM: 'xterm-256color' });
    assert.equal(cast.header.title, `alice@127.0.0.1:${ssh.port}`);
    assert.equal(cast.header.webssh_bridge.session, ready.sessionId);
    assert.equal(cast.header.webssh_bridge.client_ip, '127.0.0.1');
    assert.ok(Math.abs(cast.header.timestamp - Date.now() / 1000) < 120);
    assert.ok(cast.output.includes('1\r\n2\r\n3\r\n4\r\n5\r\n'), 'the count is in the output events');
    assert.ok(cast.output.includes('héllo wörld € 😀') && !cast.output.includes('\ufffd'), 'multi-byte text intact');
    assert.equal(cast.output, ws.output(), 'the output events are exactly what the client received');
    assert.deepEqual(cast.events.filter((e) => e[1] === 'r').map((e) => e[2]), ['60x15']);
    assert.equal(cast.events.filter((e) => e[1] === 'i').length, 0, 'no input without --record-input');
    assert.ok(!cast.text.includes(ssh.password));
    assert.deepEqual(leakedSecrets(cast.text), []);

    // The raw bytes the client received, into a terminal resized at the same point of the stream.
    const raw = newTerm(90, 20);
    t.after(() => raw.dispose());
    await write(raw, ws.output().slice(0, beforeResize));
    raw.resize(60, 15);
    await write(raw, ws.output().slice(beforeResize));
    const expected = screen(raw);
    assert.match(expected, /15 60/);
    assert.equal(await replay(cast), expected);

    const finished = bridge.logs().find((l) => l.event === 'recording_finished');
    assert.equal(finished?.file, cast.path);
    assert.equal(finished?.bytes, Buffer.byteLength(cast.text));
    assert.equal(finished?.truncated, null);
    assert.equal(bridge.logs().find((l) => l.event === 'recording_started')?.session, ready.sessionId);
  });

  void it('the reference player reads it: `asciinema cat` prints exactly what the client received', async (t) => {
    if (!requireOrSkip(t, 'asciinema', asciinemaAvailable(), 'apt-get install asciinema')) return;
    const dir = tempDir(t);
    const { ssh, bridge, url } = await setupFake(t, ['--record-dir', dir]);
    const ws = await openWs(url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 80, rows: 24 });
    await ws.waitForOutput(FAKE_PROMPT);
    ws.sendJson({ type: 'resize', cols: 100, rows: 30 });
    ws.sendBinary(Buffer.from('count 300\r'));
    await ws.waitForOutput(/300\r\nfake\$ $/);
    ws.sendBinary(Buffer.from('héllo € 😀\r'));
    await ws.waitForOutput(/😀\r\nfake\$ $/);
    ws.sendBinary(Buffer.from('exit 0\r'));
    await ws.closed;
    const cast = await onlyCast(bridge, dir);
    // asciinema cat wants a terminal: `script` gives it a pty, set raw so no byte is translated.
    const printed = execFileSync('script', ['-qec', `stty raw -echo; ${ASCIINEMA_PATH} cat '${cast.path}'`, '/dev/null'], {
      env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.equal(printed.toString('utf8'), ws.output());
  });

  void it('--record-input adds "i" events, but never credentials nor what was typed during the login', async (t) => {
    const dir = tempDir(t);
    const { ssh, bridge, url } = await setupFake(t, ['--record-dir', dir, '--record-input']);
    const ws = await openWs(url);
    ws.sendJson({ username: ssh.username, password: ssh.password });
    ws.sendText('echo typed-during-login\r'); // queued while connecting, forwarded once the shell opens
    await ws.waitForOutput(/typed-during-login\r\nfake\$ $/);
    ws.sendText('count 3\r');
    await ws.waitForOutput(/3\r\nfake\$ $/);
    ws.sendText('exit 0\r');
    await ws.closed;
    const cast = await onlyCast(bridge, dir);
    assert.equal(cast.header.width, 80, 'seed clients get the default size');
    assert.equal(cast.header.height, 24);
    assert.equal(cast.input, 'count 3\rexit 0\r');
    assert.ok(cast.output.includes('typed-during-login'), 'the early input reached the shell; its echo is output');
    assert.ok(!cast.text.includes(ssh.password));
    assert.equal(cast.output, ws.output());
  });

  void it('keyboard-interactive answers never reach a recording, even with --record-input', async (t) => {
    const dir = tempDir(t);
    const { bridge, url } = await setupFake(t, ['--record-dir', dir, '--record-input'], {
      methods: ['keyboard-interactive'],
      ki: [{ name: 'Login', prompts: [{ prompt: 'Password: ', echo: false }], answers: [KI_ANSWER] }],
    });
    const ws = await openWs(url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: 'alice', method: 'keyboard-interactive' });
    await ws.waitForControl(isType('prompt'));
    ws.sendJson({ type: 'prompt-reply', responses: [KI_ANSWER] });
    await ws.waitForControl(isType('ready'));
    await ws.waitForOutput(FAKE_PROMPT);
    ws.sendBinary(Buffer.from('size\r'));
    await ws.waitForOutput('24 80');
    ws.close();
    await ws.closed;
    const cast = await onlyCast(bridge, dir);
    assert.equal(cast.input, 'size\r');
    assert.ok(!cast.text.includes(KI_ANSWER));
  });

  void it('--record-max-size: the recording stops with a marker and stays valid; the session goes on', async (t) => {
    const dir = tempDir(t);
    const { ssh, bridge, url } = await setupFake(t, ['--record-dir', dir, '--record-max-size', '4KiB']);
    const ws = await seedLogin(url, ssh);
    ws.sendText('count 3000\r');
    await ws.waitForOutput(/3000\r\nfake\$ $/);
    await waitForLog(bridge, (l) => l.event === 'recording_finished');
    ws.sendText('size\r');
    await ws.waitForOutput('24 80');
    ws.close();
    await ws.closed;
    const cast = await onlyCast(bridge, dir);
    assert.ok(Buffer.byteLength(cast.text) <= 4096, `${Buffer.byteLength(cast.text)} bytes`);
    const last = cast.events.at(-1);
    assert.equal(last?.[1], 'm');
    assert.match(last?.[2] ?? '', /^recording truncated: the size limit of 4096 bytes was reached/);
    assert.ok(cast.output.startsWith(ws.output().slice(0, cast.output.length)) && ws.output().startsWith(cast.output), 'a prefix of what the client saw');
    assert.ok(!cast.output.includes('24 80'), 'nothing after the marker');
    const finished = bridge.logs().find((l) => l.event === 'recording_finished');
    assert.match(String(finished?.truncated), /size limit/);
    assert.equal(bridge.logs().filter((l) => l.event === 'session_end').length, 1);
  });

  void it('--record-filter: a filter that matches nothing records nothing; a matching one records', async (t) => {
    const dir = tempDir(t);
    const { ssh, bridge, url } = await setupFake(t, ['--record-dir', dir, '--record-filter', 'user:bob,target:*:2222,target:db.example:*']);
    const ws = await seedLogin(url, ssh);
    ws.sendText('exit 0\r');
    await ws.closed;
    await waitForLog(bridge, (l) => l.event === 'session_end');
    assert.deepEqual(castFiles(dir), []);
    assert.equal(bridge.logs().some((l) => typeof l.event === 'string' && l.event.startsWith('recording_')), false);

    const dir2 = tempDir(t);
    const second = await startBridge(['--host-key-policy', 'accept-new-insecure', '--record-dir', dir2, '--record-filter', `user:bob,target:127.0.0.?:${ssh.port}`]);
    t.after(() => second.close());
    const ws2 = await seedLogin(`${second.wsBase}/ws/127.0.0.1/${ssh.port}`, ssh);
    ws2.sendText('exit 0\r');
    await ws2.closed;
    const cast = await onlyCast(second, dir2);
    assert.equal(cast.output, ws2.output());
  });

  void it('a recording that fails (directory gone) logs recording_failed once and the session goes on', async (t) => {
    const base = tempDir(t);
    const dir = join(base, 'casts');
    const { ssh, bridge, url } = await setupFake(t, ['--record-dir', dir]);
    rmSync(dir, { recursive: true });
    const ws = await seedLogin(url, ssh);
    ws.sendText('count 100\r');
    await ws.waitForOutput(/100\r\nfake\$ $/);
    const failed = await waitForLog(bridge, (l) => l.event === 'recording_failed');
    assert.equal(failed.error, 'ENOENT');
    ws.sendText('exit 3\r');
    assert.equal((await ws.closed).reason, 'SHELL_EXITED: shell exited: exit status 3');
    assert.equal(bridge.logs().filter((l) => l.event === 'recording_failed').length, 1);
    assert.equal(bridge.logs().some((l) => l.event === 'recording_finished'), false);
  });

  void it('shutdown waits for the files: every open recording is complete when close() resolves', async (t) => {
    const dir = tempDir(t);
    const ssh = await startFakeSsh();
    t.after(() => ssh.close());
    const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--record-dir', dir]);
    const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
    const sockets: TestWs[] = [];
    for (let i = 0; i < 3; i++) {
      const ws = await seedLogin(url, ssh);
      ws.sendText('count 2000\r');
      await ws.waitForOutput(/2000\r\nfake\$ $/);
      sockets.push(ws);
    }
    assert.equal(readdirSync(dir).filter((n) => n.endsWith('.cast.live')).length, 3, 'each recording being written has its live marker');
    await bridge.close();
    assert.equal(bridge.app.recorder?.openCount, 0);
    const files = castFiles(dir);
    assert.equal(files.length, 3);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.live')), [], 'no marker is left: none of them is live');
    for (const [i, name] of files.entries()) {
      const cast = readCast(join(dir, name));
      assert.ok(cast.output.includes('1999\r\n2000\r\n'), `file ${i} complete`);
    }
    for (const ws of sockets) await ws.closed;
  });
});

void describe('session recording (CLI)', () => {
  void it('a record directory that cannot be created stops the start with exit 2, with or without workers', (t) => {
    const base = tempDir(t);
    const file = join(base, 'not-a-dir');
    writeFileSync(file, '');
    for (const [dir, workers] of [[join(file, 'casts'), '1'], [file, '1'], [join(file, 'casts'), '2']] as const) {
      const r = runCli(['--server-address', '127.0.0.1:0', '--workers', workers, '--record-dir', dir]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^webssh-bridge: record-dir ${dir}: cannot create the directory \\(E[A-Z]+\\)\\n$`));
    }
  });

  void it('--workers 2: each worker writes the recordings of its own sessions', async (t) => {
    const dir = tempDir(t);
    const ssh = await startFakeSsh();
    t.after(() => ssh.close());
    const cli = spawnCli(['--workers', '2', '--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure', '--record-dir', dir, '--record-input']);
    t.after(() => cli.close());
    const line = await cli.waitForLog((l) => l.event === 'listening' && l.workers === 2, 30_000);
    const url = `ws://127.0.0.1:${String(line.port)}/ws/127.0.0.1/${ssh.port}`;
    for (let i = 0; i < 4; i++) {
      const ws = await seedLogin(url, ssh);
      ws.sendText(`echo session-${i}\r`);
      await ws.waitForOutput(new RegExp(`session-${i}\\r\\nfake\\$ $`));
      ws.sendText('exit 0\r');
      await ws.closed;
    }
    await cli.waitForLog(() => cli.logs().filter((l) => l.event === 'recording_finished').length === 4, 10_000);
    const started = cli.logs().filter((l) => l.event === 'recording_started');
    assert.equal(new Set(started.map((l) => l.worker)).size, 2, 'both workers recorded');
    const files = castFiles(dir);
    assert.equal(files.length, 4);
    const inputs = files.map((n) => readCast(join(dir, n)).input).sort();
    assert.deepEqual(inputs, [0, 1, 2, 3].map((i) => `echo session-${i}\rexit 0\r`));
  });
});

void describe('session recording (real OpenSSH)', () => {
  void it('multi-byte output split across SSH chunks is recorded intact', async (t) => {
    if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return;
    const dir = tempDir(t);
    const sshd = await startSshd();
    t.after(() => sshd.stop());
    const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--record-dir', dir, '--record-input']);
    t.after(() => bridge.close());
    const ws = await openWs(`${bridge.wsBase}/ws/127.0.0.1/${sshd.port}`, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: sshd.username, password: sshd.password, cols: 100, rows: 30 });
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    // 20000 three-byte characters (60000 bytes) cannot all fall on chunk boundaries; then a mix of widths.
    ws.sendBinary(Buffer.from(`printf '\\342\\202\\254%.0s' $(seq 1 20000); printf '\\nh\\303\\251llo \\360\\237\\230\\200 \\316\\273\\n'; echo "@@rec""-done@@"\r`));
    await ws.waitForOutput('@@rec-done@@', 20_000);
    ws.sendBinary(Buffer.from('exit\r'));
    await ws.closed;
    const cast = await onlyCast(bridge, dir);
    assert.ok(cast.output.includes('€'.repeat(20000)), 'the euros came through whole');
    assert.ok(cast.output.includes('héllo 😀 λ'));
    assert.ok(!cast.output.includes('\ufffd'), 'no replacement characters');
    assert.equal(cast.output, ws.output());
    assert.ok(cast.events.filter((e) => e[1] === 'o').length > 1);
    assert.ok(!cast.text.includes(sshd.password));
    assert.match(cast.input, /^printf /);
  });
});
