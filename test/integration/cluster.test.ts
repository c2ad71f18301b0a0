/**
 * `--workers 2`: the real CLI as a cluster (primary + two workers sharing the port), against the
 * in-process ssh2 server. Limits, the rate limiter and tickets are exact across workers because
 * the primary decides; /stats, /health and /metrics show the whole gateway; a killed worker is
 * replaced and its sessions are reported lost; SIGTERM drains every worker.
 */
import { describe, it, type TestContext } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newToken } from '../../src/auth/tokens.js';
import { spawnCli, type CliProcess, type LogLine } from '../helpers/cli.js';
import { registerSecret } from '../helpers/secrets.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs, type TestWs, type WsOpts } from '../helpers/ws-client.js';
import { makePki } from '../helpers/pki.js';
import { readFileSync } from 'node:fs';

interface Cluster {
  readonly cli: CliProcess;
  readonly base: string;
  readonly url: string;
  readonly ssh: FakeSshHandle;
}

async function startCluster(t: TestContext, flags: string[] = [], scheme: 'http' | 'https' = 'http'): Promise<Cluster> {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const cli = spawnCli(['--workers', '2', '--server-address', '127.0.0.1:0', '--host-key-policy', 'accept-new-insecure', '--metrics-enabled', ...flags]);
  t.after(() => cli.close());
  // The primary's line comes once both workers listen.
  const line = await cli.waitForLog((l) => l['event'] === 'listening' && l['workers'] === 2, 30_000);
  const base = `${scheme}://127.0.0.1:${String(line['port'])}`;
  return { cli, base, url: `${base.replace('http', 'ws')}/ws/127.0.0.1/${ssh.port}`, ssh };
}

async function login(c: Cluster): Promise<TestWs> {
  const ws = await openWs(c.url);
  ws.sendJson({ username: c.ssh.username, password: c.ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  return ws;
}

interface Stats {
  workers: number;
  lost_sessions: number;
  connections: { active_sessions: number; host_connections: Record<string, number> };
  rejections: Record<string, number>;
  outcomes: Record<string, number>;
}

async function stats(c: Cluster): Promise<Stats> {
  return (await (await fetch(`${c.base}/stats`)).json()) as Stats;
}

/** Poll until `check` holds (the primary's view updates by IPC, a moment after the client sees it). */
async function eventually<T>(what: string, get: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T = await get();
  while (!check(last)) {
    if (Date.now() > end) assert.fail(`${what}: last value ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await get();
  }
  return last;
}

const sessionWorkers = (logs: LogLine[]): Set<unknown> => new Set(logs.filter((l) => l['event'] === 'session_start').map((l) => l['worker']));

/** The workers' session_start lines, once `n` have arrived: a worker's line can trail the prompt the client saw. */
async function sessionStarts(c: Cluster, n: number): Promise<LogLine[]> {
  await c.cli.waitForLog(() => c.cli.logs().filter((l) => l['event'] === 'session_start').length >= n, 15_000);
  return c.cli.logs().filter((l) => l['event'] === 'session_start');
}

void describe('--workers 2', () => {
  void it('per-IP limit is exact across workers; stats, health and metrics add up every worker', async (t) => {
    const c = await startCluster(t, ['--conn-max-per-host', '3']);
    const open: TestWs[] = [];
    for (let i = 0; i < 3; i++) open.push(await login(c));
    assert.equal(sessionWorkers(await sessionStarts(c, 3)).size, 2, 'connections were spread over both workers');
    for (let i = 0; i < 2; i++) {
      const refused = await expectHttpRejection(c.url);
      assert.equal(refused.status, 503);
      assert.equal((refused.body as { code: string }).code, 'LIMIT_PER_IP');
    }
    const s = await stats(c);
    assert.equal(s.workers, 2);
    assert.equal(s.connections.active_sessions, 3);
    assert.deepEqual(s.connections.host_connections, { '127.0.0.1': 3 });
    assert.equal(s.rejections['LIMIT_PER_IP'], 2);
    const health = (await (await fetch(`${c.base}/health`)).json()) as Record<string, unknown>;
    assert.equal(health['active_sessions'], 3);
    const metrics = await (await fetch(`${c.base}/metrics`)).text();
    assert.match(metrics, /^webssh_bridge_active_sessions 3$/m);
    for (const ws of open) ws.close();
    await eventually('slots released', () => stats(c), (v) => v.connections.active_sessions === 0);
    const again = await login(c);
    again.close();
  });

  void it('the rate limiter is one bucket for the gateway, not one per worker', async (t) => {
    const c = await startCluster(t, ['--rate-burst', '3', '--rate-interval', '10m']);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await expectHttpRejection(c.url, { origin: 'https://evil.example' })).status);
    // The origin check comes after the rate check: the first three pass the limiter and get 403.
    assert.deepEqual(codes, [403, 403, 403, 429, 429]);
  });

  void it('a failed login counts on the primary before its error goes out: attempts left and the ban span workers', async (t) => {
    const c = await startCluster(t, ['--auth-ban-failures', '3', '--auth-ban-duration', '1m']);
    const seen: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 3; i++) {
      const ws = await openWs(c.url, { protocol: 'webssh-bridge.v1' });
      ws.sendJson({ type: 'auth', username: c.ssh.username, password: 'not-the-password' });
      const error = (await ws.waitForControl((m) => (m as { type?: unknown }).type === 'error')) as Record<string, unknown>;
      assert.equal(error['code'], 'SSH_AUTH_FAILED');
      seen.push({ attemptsLeft: error['attemptsLeft'], banSeconds: error['banSeconds'], banned: typeof error['retryAfter'] === 'number' && error['retryAfter'] > 0 });
      if (i === 2) {
        // Counted before the error went out: the ban holds on every worker at once.
        for (let j = 0; j < 2; j++) assert.equal(((await expectHttpRejection(c.url)).body as { code: string }).code, 'AUTH_BANNED');
      }
      assert.equal((await ws.closed).code, 4001);
    }
    assert.deepEqual(seen, [
      { attemptsLeft: 2, banSeconds: 60, banned: false },
      { attemptsLeft: 1, banSeconds: 60, banned: false },
      { attemptsLeft: 0, banSeconds: undefined, banned: true },
    ]);
    await c.cli.waitForLog(() => c.cli.logs().filter((l) => l['event'] === 'session_end' && l['code'] === 'SSH_AUTH_FAILED').length >= 3, 15_000);
    const workers = new Set(c.cli.logs().filter((l) => l['event'] === 'session_end' && l['code'] === 'SSH_AUTH_FAILED').map((l) => l['worker']));
    assert.equal(workers.size, 2, 'the failed logins were spread over both workers');
  });

  void it('a ticket issued by one worker is redeemed by another, once', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsb-cluster-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { token, line } = newToken('cluster');
    registerSecret(token);
    writeFileSync(join(dir, 'tokens'), `${line}\n`);
    const c = await startCluster(t, ['--auth-tokens', join(dir, 'tokens')]);
    const tickets: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${c.base}/api/ticket`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Origin: c.base, Authorization: `Bearer ${token}` },
        body: JSON.stringify({ host: '127.0.0.1', port: c.ssh.port }),
      });
      assert.equal(res.status, 200);
      tickets.push(registerSecret(String(((await res.json()) as { ticket: string }).ticket)));
    }
    // fetch keeps its connection alive, so one worker issued them all; new sockets alternate workers.
    for (const ticket of tickets) {
      const ws = await openWs(`${c.url}?ticket=${ticket}`);
      ws.sendJson({ username: c.ssh.username, password: c.ssh.password });
      await ws.waitForOutput(FAKE_PROMPT);
      ws.close();
    }
    for (const ticket of tickets) {
      const reused = await expectHttpRejection(`${c.url}?ticket=${ticket}`);
      assert.equal((reused.body as { code: string }).code, 'TICKET_INVALID');
    }
    assert.equal(sessionWorkers(await sessionStarts(c, tickets.length)).size, 2, 'tickets were redeemed on both workers');
  });

  void it('a killed worker is replaced; its sessions are reported lost and their slots freed', async (t) => {
    const c = await startCluster(t, ['--conn-max-per-host', '2']);
    const a = await login(c);
    const b = await login(c);
    const starts = await sessionStarts(c, 2);
    const victim = starts[0];
    assert.ok(victim !== undefined && typeof victim['pid'] === 'number');
    process.kill(victim['pid'], 'SIGKILL');
    const lost = await c.cli.waitForLog((l) => l['event'] === 'worker_exit', 15_000);
    assert.equal(lost['signal'], 'SIGKILL');
    assert.ok(Number(lost['sessions_lost']) >= 1);
    assert.ok(c.cli.logs().some((l) => l['event'] === 'session_end' && l['code'] === 'WORKER_LOST'));
    // The dead worker's clients see their socket drop; the other worker's session lives on.
    const survivors = await Promise.race([a.closed.then(() => b), b.closed.then(() => a)]);
    survivors.sendText('count 2\r');
    await survivors.waitForOutput(/1\r?\n2/);
    await c.cli.waitForLog((l) => l['event'] === 'worker_listening' && l['pid'] !== victim['pid'] && l['worker'] !== victim['worker'], 30_000);
    const s = await eventually('lost session counted', () => stats(c), (v) => v.workers === 2 && v.lost_sessions >= 1);
    assert.equal(s.outcomes['WORKER_LOST'], s.lost_sessions);
    // The per-IP limit of 2 counts only the survivor now: one more session fits.
    const c2 = await login(c);
    c2.close();
    survivors.close();
  });

  void it('every worker killed at once: the primary replaces them all and serves again (it does not exit in silence)', async (t) => {
    // A fixed port: node:cluster drops the shared port with its last worker, and port 0 would be
    // a new random port when the replacements listen again.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const c = await startCluster(t, ['--server-address', `127.0.0.1:${port}`]);
    // A worker's own line can trail the primary's `listening`.
    await c.cli.waitForLog(() => c.cli.logs().filter((l) => l['event'] === 'worker_listening').length >= 2, 15_000);
    const first = c.cli.logs().filter((l) => l['event'] === 'worker_listening');
    for (const w of first) process.kill(Number(w['pid']), 'SIGKILL');
    const isNew = (l: LogLine): boolean => l['event'] === 'worker_listening' && !first.some((w) => w['pid'] === l['pid']);
    await c.cli.waitForLog(() => c.cli.logs().filter(isNew).length >= 2, 30_000);
    assert.equal(c.cli.child.exitCode, null, 'the primary is still running');
    const health = await fetch(`${c.base}/health`);
    assert.equal(health.status, 200);
    const ws = await login(c);
    ws.close();
  });

  void it('SIGTERM drains every worker: all clients get 1001 and the primary exits 0', async (t) => {
    const c = await startCluster(t);
    const clients: TestWs[] = [];
    for (let i = 0; i < 4; i++) clients.push(await login(c));
    assert.equal(sessionWorkers(await sessionStarts(c, 4)).size, 2);
    c.cli.child.kill('SIGTERM');
    const closes = await Promise.all(clients.map((w) => w.closed));
    for (const cl of closes) assert.equal(cl.code, 1001);
    assert.equal(await c.cli.exited, 0);
    assert.ok(c.cli.logs().some((l) => l['event'] === 'stopped' && l['lost_sessions'] === 0));
  });

  /**
   * Resume with the owner's token until one resume has reached the other worker (round-robin
   * makes that happen within a few tries); every resume must continue the same shell.
   */
  async function resumeAcrossWorkers(c: Cluster, opts: WsOpts = {}): Promise<void> {
    const ws = await openWs(c.url, { protocol: 'webssh-bridge.v1', ...opts });
    ws.sendJson({ type: 'auth', username: c.ssh.username, password: c.ssh.password, resume: true });
    const ready = (await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { resume: { token: string } };
    registerSecret(ready.resume.token);
    await ws.waitForOutput(FAKE_PROMPT);
    let token = ready.resume.token;
    let current = ws;
    let position = Buffer.byteLength(ws.output());
    const relayed = (): number => c.cli.logs().filter((l) => l['event'] === 'resume_relayed').length;
    for (let i = 0; i < 20 && relayed() === 0; i++) {
      current.terminate();
      const next = await openWs(`${c.url}?resume=${token}&position=${position}`, { protocol: 'webssh-bridge.v1', ...opts });
      const resumed = (await next.waitForControl((m) => (m as { type?: string }).type === 'resumed')) as { position: number; lost: number; resume: { token: string } };
      assert.equal(resumed.position, position);
      assert.equal(resumed.lost, 0);
      token = resumed.resume.token;
      registerSecret(token);
      next.sendBinary(Buffer.from(`echo round-${i}\r`));
      await next.waitForOutput(`round-${i}\r\n${FAKE_PROMPT}`);
      position += Buffer.byteLength(next.output());
      current = next;
    }
    assert.ok(relayed() > 0, 'a resume reached the worker that does not hold the session');
    assert.equal(c.ssh.events.connections, 1, 'one SSH connection all along');
    current.close(1000);
    await current.closed;
  }

  void it('a resume that lands on the other worker is passed to the one holding the session', async (t) => {
    const c = await startCluster(t);
    await resumeAcrossWorkers(c);
  });

  void it('the same over TLS: the first worker terminates TLS and relays the plain stream', async (t) => {
    const pki = makePki();
    t.after(() => pki.remove());
    const pair = pki.selfSigned('server');
    const c = await startCluster(t, ['--server-cert', pair.cert, '--server-key', pair.key], 'https');
    await resumeAcrossWorkers(c, { ca: readFileSync(pair.cert) });
  });

  void it('a viewer that lands on the other worker is passed to the one holding the shared session', async (t) => {
    const c = await startCluster(t);
    const owner = await openWs(c.url, { protocol: 'webssh-bridge.v1' });
    owner.sendJson({ type: 'auth', username: c.ssh.username, password: c.ssh.password });
    await owner.waitForControl((m) => (m as { type?: string }).type === 'ready');
    await owner.waitForOutput(FAKE_PROMPT);
    owner.sendJson({ type: 'share' });
    const { token } = (await owner.waitForControl((m) => (m as { type?: string }).type === 'shared')) as { token: string };
    registerSecret(token);
    const relayed = (): number => c.cli.logs().filter((l) => l['event'] === 'resume_relayed').length;
    for (let i = 0; i < 20 && relayed() === 0; i++) {
      const viewer = await openWs(`${c.url}?share=${token}`, { protocol: 'webssh-bridge.v1' });
      await viewer.waitForControl((m) => (m as { type?: string }).type === 'viewing');
      owner.sendBinary(Buffer.from(`echo seen-${i}\r`));
      await viewer.waitForOutput(`seen-${i}`);
      viewer.close(1000);
      await viewer.closed;
    }
    assert.ok(relayed() > 0, 'a viewer reached the worker that does not hold the session');
    owner.close(1000);
  });

  void it('a resume for a session whose worker died is refused (4007), not hung', async (t) => {
    const c = await startCluster(t);
    const ws = await openWs(c.url, { protocol: 'webssh-bridge.v1' });
    ws.sendJson({ type: 'auth', username: c.ssh.username, password: c.ssh.password, resume: true });
    const ready = (await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { resume: { token: string } };
    registerSecret(ready.resume.token);
    await ws.waitForOutput(FAKE_PROMPT);
    const [start] = await sessionStarts(c, 1);
    assert.ok(start !== undefined && typeof start['pid'] === 'number');
    process.kill(start['pid'], 'SIGKILL');
    await c.cli.waitForLog((l) => l['event'] === 'worker_exit', 15_000);
    const again = await openWs(`${c.url}?resume=${ready.resume.token}&position=0`, { protocol: 'webssh-bridge.v1' });
    const closed = await again.closed;
    assert.equal(closed.code, 4007);
    assert.match(closed.reason, /^RESUME_INVALID/);
  });
});

