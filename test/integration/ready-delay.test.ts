/**
 * The ready delay of a stop (--server-shutdown-ready-delay): from the first SIGTERM, /readyz
 * answers 503 while the node still admits and serves, so a load balancer that checks it moves
 * new sessions away before any is refused; once the delay is over the drain goes on as it always
 * did (1001 to every client, exit 0). A second signal during the delay skips the rest of it (and
 * still drains cleanly). The real CLI, with one process and with workers: under workers every
 * worker's /readyz must say 503, which fresh connections (handed out round-robin) check. The
 * App's own stop() is checked in-process too.
 *
 * Timing is checked from below only (the drain does not come before the delay is over); the
 * upper bounds are hang bounds, far above what a healthy run takes.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawnCli, type CliProcess, type LogLine } from '../helpers/cli.js';
import { startBridge } from '../helpers/bridge.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';
import { until } from '../helpers/until.js';

/** A stop that is waiting on something it should not is caught by this bound. */
const HANG_MS = 30_000;

/** `p`'s value, or 'timed out' after `ms` (the timer cleared either way: nothing keeps the test process alive). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timed out'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<'timed out'>((resolve) => { timer = setTimeout(() => resolve('timed out'), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

async function fakeSsh(t: TestContext): Promise<FakeSshHandle> {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  return ssh;
}

/** GET on a connection of its own (no keep-alive): under workers, each one may reach another worker. */
function freshGet(base: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { agent: false, headers: { Connection: 'close' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown });
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** /readyz over `n` fresh connections (n >= 2 reaches both of two workers, which node:cluster serves in turn). */
async function readyz(base: string, n = 6): Promise<Array<{ status: number; body: unknown }>> {
  const out: Array<{ status: number; body: unknown }> = [];
  for (let i = 0; i < n; i++) out.push(await freshGet(base, '/readyz'));
  return out;
}

async function login(url: string, ssh: FakeSshHandle): Promise<TestWs> {
  const ws = await openWs(url);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  return ws;
}

async function echoes(ws: TestWs, text: string): Promise<void> {
  ws.sendBinary(Buffer.from(`${text}\r`));
  await ws.waitForOutput(text);
}

interface Node {
  readonly cli: CliProcess;
  readonly base: string;
  readonly url: string;
}

async function startNode(t: TestContext, workers: number, delay: string, ssh: FakeSshHandle): Promise<Node> {
  const cli = spawnCli(['--workers', String(workers), '--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure',
    '--server-shutdown-timeout', '60s', '--server-shutdown-ready-delay', delay]);
  t.after(() => cli.close());
  const port = await cli.listening();
  const base = `http://127.0.0.1:${port}`;
  return { cli, base, url: `ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}` };
}

const isEvent = (event: string) => (l: LogLine): boolean => l['event'] === event;
/** The line that begins the drain: the primary's under workers (the workers' carry `worker`), the process's under --workers 1. */
const drainLine = (l: LogLine): boolean => l['msg'] === 'draining' && l['worker'] === undefined;

void describe('--server-shutdown-ready-delay: /readyz says 503 first, the node still admits, then it drains', () => {
  for (const workers of [1, 2]) {
    void it(`--workers ${workers}: during the delay /readyz is 503 (every worker) and a new session is admitted; after it, every client gets 1001 and the exit is 0`, async (t) => {
      const DELAY_MS = 8000;
      const ssh = await fakeSsh(t);
      const node = await startNode(t, workers, `${DELAY_MS}ms`, ssh);
      for (const r of await readyz(node.base)) assert.deepEqual(r, { status: 200, body: { status: 'ready' } });
      const before = await login(node.url, ssh);

      const sent = Date.now();
      node.cli.child.kill('SIGTERM');
      await node.cli.waitForLog(isEvent('not_ready'), 10_000);
      // Every worker hears the primary's `unready` a moment after its line.
      await until(async () => (await readyz(node.base)).every((r) => r.status === 503), 'every /readyz to answer 503', 10_000);
      for (const r of await readyz(node.base)) assert.deepEqual(r, { status: 503, body: { status: 'draining', admitting: true } });
      const health = await freshGet(node.base, '/health');
      assert.equal(health.status, 200);
      assert.equal((health.body as { status: string }).status, 'draining');

      const during = await login(node.url, ssh);
      await echoes(during, 'admitted-during-the-delay');
      await echoes(before, 'still-served');
      assert.equal(node.cli.logs().some(drainLine), false, 'the drain has not begun while the delay runs');

      const closes = await Promise.all([before.closed, during.closed]);
      const drainedAfter = Date.now() - sent;
      for (const c of closes) assert.equal(c.code, 1001);
      assert.ok(drainedAfter >= DELAY_MS, `the drain began ${drainedAfter} ms after SIGTERM, before the ${DELAY_MS} ms delay was over`);
      const code = await within(node.cli.exited, HANG_MS);
      assert.equal(code, 0, node.cli.output().slice(-3000));
      assert.ok(node.cli.logs().some(drainLine), 'the drain is logged');
      assert.equal(node.cli.logs().some((l) => l['event'] === 'session_end' && l['code'] === 'DRAINING'), false);
    });

    void it(`--workers ${workers}: a second signal during the delay skips the rest of it; the drain is still clean (exit 0)`, async (t) => {
      const ssh = await fakeSsh(t);
      const node = await startNode(t, workers, '10m', ssh);
      const ws = await login(node.url, ssh);
      node.cli.child.kill('SIGTERM');
      await node.cli.waitForLog(isEvent('not_ready'), 10_000);
      await until(async () => (await readyz(node.base, 2)).every((r) => r.status === 503), '/readyz to answer 503', 10_000);
      await echoes(ws, 'served-during-the-delay');
      node.cli.child.kill('SIGINT');
      const closed = await within(ws.closed, HANG_MS);
      assert.ok(closed !== 'timed out', `the second signal did not cut the 10 minute delay; output:\n${node.cli.output().slice(-3000)}`);
      assert.equal(closed.code, 1001);
      const code = await within(node.cli.exited, HANG_MS);
      assert.equal(code, 0, node.cli.output().slice(-3000));
      assert.ok(node.cli.logs().some((l) => l['signal'] === 'SIGINT' && typeof l['msg'] === 'string' && l['msg'].includes('without the rest of the ready delay')));
    });
  }

  void it('without a delay (the default) a stop drains at once, as before: no not_ready line', async (t) => {
    const ssh = await fakeSsh(t);
    const node = await startNode(t, 1, '0', ssh);
    const ws = await login(node.url, ssh);
    node.cli.child.kill('SIGTERM');
    assert.equal((await ws.closed).code, 1001);
    assert.equal(await node.cli.exited, 0);
    assert.equal(node.cli.logs().some(isEvent('not_ready')), false);
  });
});

void describe('App.stop() in-process', () => {
  void it('not ready at once, admitting through the delay; hurry() begins the drain; close() during a delay ends it too', async (t) => {
    const ssh = await fakeSsh(t);
    const bridge = await startBridge(['--server-shutdown-ready-delay', '10m', '--metrics-enabled', '--host-key-policy', 'accept-new-insecure']);
    t.after(() => bridge.close());
    const url = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
    const a = await login(url, ssh);
    const stopped = bridge.app.stop();
    assert.equal(bridge.app.manager.leaving, true);
    assert.equal(bridge.app.manager.draining, false);
    const ready = await fetch(`${bridge.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'draining', admitting: true });
    const stats = (await (await fetch(`${bridge.url}/stats`)).json()) as { draining: boolean };
    assert.equal(stats.draining, true, '/stats says a stop has begun');
    const b = await login(url, ssh);
    await echoes(b, 'admitted');
    assert.equal(bridge.app.hurry(), true, 'a delay was under way');
    assert.equal(bridge.app.hurry(), false, 'and is over');
    const closes = await Promise.all([a.closed, b.closed]);
    for (const c of closes) assert.equal(c.code, 1001);
    await stopped;
    assert.equal(bridge.app.manager.draining, true);

    const other = await startBridge(['--server-shutdown-ready-delay', '10m']);
    const stopping = other.app.stop();
    assert.equal((await fetch(`${other.url}/readyz`)).status, 503);
    await other.close(); // close() ends the delay: the stop resolves with it, no timer is left behind
    await stopping;
  });
});
