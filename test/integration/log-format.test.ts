/**
 * --log-format as an operator sees it, through the built CLI: `pretty` gives lines of text (none
 * holds a JSON brace) whose first says where to open the page, in one process and under workers
 * (the workers write to the primary's stdout themselves, in the same format); `json` and `auto`
 * on a pipe give the JSON lines supervisors and the other tests parse, and `auto` on a terminal
 * (util-linux `script` gives the CLI a pseudo-terminal) is pretty. Every child's output is
 * scanned for the test secrets (helpers/cli.ts), the SSH password included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { CLI, spawnCli, type CliProcess, type LogLine } from '../helpers/cli.js';
import { executable, requireOrSkip } from '../helpers/require.js';
import { startFakeSsh, FAKE_PROMPT } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs } from '../helpers/ws-client.js';
import { registerSecret } from '../helpers/secrets.js';
import { VERSION } from '../../src/version.js';

const OPEN = /^\S+ \S+ INFO {2}webssh-bridge (\S+) listening: open (http:\/\/127\.0\.0\.1:(\d+)\/)(?: |$)/;

const raw = (l: LogLine): string => (typeof l['raw'] === 'string' ? l['raw'] : '');

/** Waits for the human ready line; returns the page URL and port it names. */
async function openLine(cli: CliProcess): Promise<{ url: string; port: number; line: string }> {
  const line = raw(await cli.waitForLog((l) => OPEN.test(raw(l))));
  const m = OPEN.exec(line);
  assert.ok(m !== null);
  assert.equal(m[1], VERSION);
  return { url: m[2] ?? '', port: Number(m[3]), line };
}

/** Every stdout line is text, not JSON: no brace anywhere. */
function assertPretty(cli: CliProcess): void {
  const lines = cli.logs();
  assert.ok(lines.length > 0);
  for (const l of lines) {
    assert.equal(typeof l['raw'], 'string', `a JSON line in pretty output: ${JSON.stringify(l)}`);
    assert.doesNotMatch(raw(l), /[{}]/, 'a JSON brace in a pretty line');
  }
}

async function assertPage(url: string): Promise<void> {
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await res.text(), /<title>/i);
}

void test('pretty, one process: the first line names the version and the page; a session logs as text; the password never shows', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const cli = spawnCli(['--log-format', 'pretty', '--workers', '1', '--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure']);
  t.after(() => cli.close());
  const { url, port } = await openLine(cli);
  assert.match(raw(cli.logs()[0] ?? {}), OPEN, 'the first line says where to open the page');
  await assertPage(url);
  const ws = await openWs(`ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.sendText('exit 0\r');
  await ws.closed;
  await cli.waitForLog((l) => / INFO {2}.*\bevent=session_end\b/.test(raw(l)));
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
  assertPretty(cli);
  assert.ok(cli.logs().some((l) => / INFO {2}stopped/.test(raw(l))), 'the stop is logged as text too');
});

void test('pretty under --workers 2 (set by UWSB_LOG_FORMAT): the workers write text too, and the first line is the one to open', async (t) => {
  const cli = spawnCli(['--workers', '2'], { UWSB_LOG_FORMAT: 'pretty', UWSB_SERVER_ADDRESS: '127.0.0.1:0' });
  t.after(() => cli.close());
  const { url, line } = await openLine(cli);
  assert.match(line, / workers=2\b/);
  assert.match(raw(cli.logs()[0] ?? {}), OPEN, 'the first line says where to open the page');
  await assertPage(url);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.exited, 0);
  assertPretty(cli);
  assert.ok(cli.logs().some((l) => / INFO {2}draining .*\bworker=1\b/.test(raw(l))), `a worker's own line, as text:\n${cli.output()}`);
});

void test('json, and auto on a pipe, stay JSON: the listening line keeps its fields and gains the version', async (t) => {
  for (const args of [['--log-format=json'], []]) {
    const cli = spawnCli([...args, '--workers', '1', '--server-address', '127.0.0.1:0']);
    t.after(() => cli.close());
    const port = await cli.listening();
    const line = await cli.waitForLog((l) => l['event'] === 'listening');
    assert.equal(line['address'], '127.0.0.1');
    assert.equal(line['url'], `http://127.0.0.1:${port}`);
    assert.equal(line['tls'], false);
    assert.equal(line['version'], VERSION);
    assert.equal(line['msg'], `webssh-bridge ${VERSION} listening: open http://127.0.0.1:${port}/`);
    cli.child.kill('SIGTERM');
    assert.equal(await cli.exited, 0);
    for (const l of cli.logs()) assert.equal(l['raw'], undefined, `${args.join(' ') || 'auto'}: a line that is not JSON: ${String(l['raw'])}`);
  }
});

void test('the secret scan sees pretty output: a canary in a refused path reaches it', async (t) => {
  const secret = registerSecret('pretty-canary-Secret-31');
  const cli = spawnCli(['--log-format', 'pretty', '--workers', '1', '--server-address', '127.0.0.1:0']);
  t.after(() => cli.stop());
  const { port } = await openLine(cli);
  const refused = await expectHttpRejection(`ws://127.0.0.1:${port}/ws/${secret}/0`);
  assert.equal(refused.status, 400);
  await cli.waitForLog((l) => raw(l).includes(secret));
  await assert.rejects(cli.close(), /secret\(s\) found/);
});

void test('auto on a terminal is pretty', async (t) => {
  const SCRIPT = '/usr/bin/script';
  if (!requireOrSkip(t, 'script (util-linux, Debian package bsdutils)', executable(SCRIPT), 'apt-get install bsdutils')) return;
  // The shell prints its pid, then becomes the bridge (exec): that pid is the bridge's, to stop it
  // directly (a terminal's hangup is a SIGHUP, which the bridge takes as "reload").
  const command = `echo "pid=$$"; exec '${process.execPath}' '${CLI}' --workers 1 --server-address 127.0.0.1:0`;
  const child = spawn(SCRIPT, ['-qfec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let bridgePid = 0;
  t.after(async () => {
    if (bridgePid > 0) process.kill(bridgePid, 'SIGTERM');
    else child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no log line on the terminal within 30 s:\n${out}`)), 30_000);
    child.stdout.on('data', (d: string) => {
      out += d;
      const lines = out.split(/\r?\n/).slice(0, -1);
      const pid = /^pid=(\d+)$/.exec(lines[0] ?? '');
      if (pid !== null) bridgePid = Number(pid[1]);
      if (lines.length >= 2) {
        clearTimeout(timer);
        resolve(lines[1] ?? '');
      }
    });
    void exited.then(() => reject(new Error(`script exited:\n${out}`)));
  });
  assert.ok(bridgePid > 0, out);
  assert.match(first, OPEN);
  assert.doesNotMatch(first, /[{}]/);
});
