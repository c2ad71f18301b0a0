/** The built CLI as an operator runs it: config errors exit 2, --help, SIGTERM drains with 1001 and exit 0. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { startFakeSsh, FAKE_PROMPT } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

void test('invalid values and unknown options stop the start with exit 2 and a message naming them', () => {
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [["--conn-max-total", "abc"], {}, /"abc" for option conn-max-total/],
    [['--nope'], {}, /unknown flag "--nope"/],
    [[], { UWSB_CONN_MAX_TOTL: '5' }, /UWSB_CONN_MAX_TOTL/],
    [[], { UWSB_SESSION_IDLE_TIMEOUT: '5 minutes' }, /session-idle-timeout/],
    [['--server-cert', '/tmp/x.pem'], {}, /server-key/],
  ];
  for (const [args, env, pattern] of cases) {
    const r = run(args, env);
    assert.equal(r.status, 2, `${args.join(' ')} ${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

void test('plain HTTP on a non-loopback address is refused (exit 2) unless --insecure-http', () => {
  const r = run(['--server-address', '0.0.0.0:0']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /refusing to serve plain HTTP.*--insecure-http/);
});

void test('--help lists every option with its env var', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  for (const name of ['server-address', 'conn-max-per-host', 'conn-max-per-target', 'ws-auth-timeout', 'trusted-proxies', 'allowed-origins', 'session-idle-timeout', 'UWSB_SERVER_CERT_FILE', 'UWSB_SESSION_IDLE_TIMEOUT']) {
    assert.ok(r.stdout.includes(name), name);
  }
});

async function readListening(child: ChildProcessWithoutNullStreams): Promise<number> {
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const rec = JSON.parse(line) as { event?: string; port?: number };
    if (rec.event === 'listening' && rec.port !== undefined) return rec.port;
  }
  throw new Error('bridge exited before listening');
}

void test('SIGTERM: clients get 1001, the process exits 0', async (t) => {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const child = spawn(process.execPath, [CLI], { env: { PATH: process.env.PATH ?? '', UWSB_SERVER_ADDRESS: '127.0.0.1:0', UWSB_HOST_KEY_POLICY: 'accept-new-insecure' } });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await readListening(child);
  child.stdout.resume();
  const ws = await openWs(`ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  child.kill('SIGTERM');
  const closed = await ws.closed;
  assert.equal(closed.code, 1001);
  assert.match(closed.reason, /^SHUTDOWN/);
  assert.equal(await exited, 0);
  await ssh.waitFor(() => ssh.events.openConnections === 0, 5000);
});
