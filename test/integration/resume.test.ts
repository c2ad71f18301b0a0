/**
 * Resume after a dropped socket (docs/protocol.md#resume) through the real bridge: the in-process
 * SSH server for exact output and fast cases, a real OpenSSH sshd for the `seq` case and for the
 * grace expiry that must end the remote shell. Behaviour only: waits have timeouts, nothing
 * asserts on durations.
 */
import { test, describe, it, type TestContext } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { setupFake } from '../helpers/fake-session.js';
import { FAKE_PROMPT, startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs, type TestWs, type WsOpts } from '../helpers/ws-client.js';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { TEST_PROMPT } from '../helpers/sshd.js';
import { useSshdBridge } from '../helpers/sshd-bridge.js';
import { registerSecret } from '../helpers/secrets.js';
import { until } from '../helpers/until.js';

const V1 = 'webssh-bridge.v1';

interface Grant { token: string; graceMs: number }
interface Ready { type: 'ready'; sessionId: string; resume?: Grant }
interface Resumed { type: 'resumed'; sessionId: string; position: number; lost: number; inputPosition: number; resume: Grant }

const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;

/** Bytes of output this socket has received (its resume position). */
function position(ws: TestWs): number {
  return Buffer.byteLength(ws.output(), 'utf8');
}

/** Log in with `resume: true` and wait for the prompt; returns the socket and its first token. */
async function resumableLogin(url: string, ssh: FakeSshHandle, opts: WsOpts = {}, extra: Record<string, unknown> = {}): Promise<{ ws: TestWs; ready: Ready }> {
  const ws = await openWs(url, { protocol: V1, ...opts });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, resume: true, ...extra });
  const ready = (await ws.waitForControl(isType('ready'))) as Ready;
  if (ready.resume !== undefined) registerSecret(ready.resume.token);
  await ws.waitForOutput(FAKE_PROMPT);
  return { ws, ready };
}

/** Resume with `token` from `pos`; resolves with the new socket and its `resumed` message. */
async function resume(url: string, token: string, pos: number, opts: WsOpts = {}): Promise<{ ws: TestWs; resumed: Resumed }> {
  const ws = await openWs(`${url}?resume=${encodeURIComponent(token)}&position=${pos}`, { protocol: V1, ...opts });
  const resumed = (await ws.waitForControl((m) => isType('resumed')(m) || isType('error')(m))) as Resumed;
  assert.equal(resumed.type, 'resumed', `resume refused: ${JSON.stringify(resumed)}`);
  registerSecret(resumed.resume.token);
  return { ws, resumed };
}

function sessionEnds(bridge: BridgeHandle): Array<Record<string, unknown>> {
  return bridge.logs().filter((l) => l.event === 'session_end');
}

void describe('resume with the in-process SSH server', () => {
  void it('ready carries a token only when asked for, for v1, with resume on', async (t) => {
    const { ssh, url } = await setupFake(t);
    const { ws, ready } = await resumableLogin(url, ssh);
    assert.ok(ready.resume !== undefined);
    assert.match(ready.resume.token, /^0\.[A-Za-z0-9_-]{43}$/);
    assert.equal(ready.resume.graceMs, 120_000);
    ws.close(1000);
    const plain = await openWs(url, { protocol: V1 });
    plain.sendJson({ type: 'auth', username: ssh.username, password: ssh.password });
    assert.deepEqual(Object.keys((await plain.waitForControl(isType('ready'))) as object).sort(), ['sessionId', 'type']);
    plain.close(1000);
    const off = await setupFake(t, ['--resume-grace', '0']);
    const r = await resumableLogin(off.url, off.ssh);
    assert.equal(r.ready.resume, undefined);
    r.ws.close(1000);
  });

  void it('a dropped socket detaches; the resume gets exactly the missed bytes, then live output', async (t) => {
    const { ssh, bridge, url } = await setupFake(t);
    const { ws, ready } = await resumableLogin(url, ssh);
    ws.sendBinary(Buffer.from('count 20000\r'));
    await ws.waitForOutput('\r\n5000\r\n'); // mid-output
    const have = position(ws);
    const received = ws.output();
    ws.terminate();
    await until(() => bridge.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach');
    assert.equal(bridge.app.manager.stats().detached, 1);
    assert.equal(bridge.app.manager.stats().active, 1, 'a detached session keeps its slot');
    const { ws: again, resumed } = await resume(url, ready.resume?.token ?? '', have);
    assert.equal(bridge.app.manager.stats().detached, 0);
    assert.equal(bridge.app.manager.stats().resumes, 1);
    const metrics = await bridge.app.metrics.registry.metrics();
    assert.match(metrics, /^webssh_bridge_resumes_total 1$/m);
    assert.match(metrics, /^webssh_bridge_detached_sessions 0$/m);
    assert.equal(resumed.sessionId, ready.sessionId);
    assert.equal(resumed.position, have);
    assert.equal(resumed.lost, 0);
    assert.equal(resumed.inputPosition, 'count 20000\r'.length, 'the input the bridge took');
    assert.notEqual(resumed.resume.token, ready.resume?.token, 'the token rotates');
    await again.waitForOutput(`20000\r\n${FAKE_PROMPT}`);
    const whole = received + again.output();
    const numbers = whole.split('\r\n').filter((l) => /^\d+$/.test(l)).map(Number);
    assert.equal(numbers.length, 20000, 'every number exactly once');
    assert.ok(numbers.every((n, i) => n === i + 1), 'in order');
    again.sendBinary(Buffer.from('echo still-here\r'));
    await again.waitForOutput('still-here');
    assert.equal(ssh.events.connections, 1, 'the same SSH connection all along');
    again.close(1000);
    await again.closed;
    await until(() => sessionEnds(bridge).length === 1, 'session_end');
    assert.equal(sessionEnds(bridge)[0]?.code, 'CLIENT_CLOSED');
  });

  void it('a token works once; a wrong position, another IP, seed clients and junk are refused', async (t) => {
    const { ssh, url } = await setupFake(t);
    const { ws, ready } = await resumableLogin(url, ssh);
    const token = ready.resume?.token ?? '';
    ws.terminate();
    // Another client IP: refused, and the token is burnt by the attempt.
    const other = await openWs(`${url}?resume=${token}&position=0`, { protocol: V1, localAddress: '127.0.0.2' });
    assert.equal((await other.closed).code, 4007);
    const reused = await openWs(`${url}?resume=${token}&position=0`, { protocol: V1 });
    const closed = await reused.closed;
    assert.equal(closed.code, 4007);
    assert.match(closed.reason, /^RESUME_INVALID/);
    for (const q of ['resume=0.short&position=0', `resume=${token}&position=-1`, `resume=${token}`, 'resume=9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&position=0']) {
      const junk = await openWs(`${url}?${q}`, { protocol: V1 });
      assert.equal((await junk.closed).code, 4007, q);
    }
    // A bad position burns a good token too: the retry with a good position is refused.
    const second = await resumableLogin(url, ssh);
    const token2 = second.ready.resume?.token ?? '';
    second.ws.terminate();
    const badPos = await openWs(`${url}?resume=${token2}&position=x`, { protocol: V1 });
    assert.equal((await badPos.closed).code, 4007);
    const retry = await openWs(`${url}?resume=${token2}&position=0`, { protocol: V1 });
    assert.equal((await retry.closed).code, 4007);
    const seed = await expectHttpRejection(`${url}?resume=${token}&position=0`);
    assert.equal(seed.status, 404);
    assert.equal((seed.body as { code: string }).code, 'RESUME_INVALID');
  });

  void it('a position past the output sent is refused with a reason', async (t) => {
    const { ssh, url } = await setupFake(t);
    const { ws, ready } = await resumableLogin(url, ssh);
    const have = position(ws);
    ws.terminate();
    const bad = await openWs(`${url}?resume=${ready.resume?.token ?? ''}&position=${have + 10}`, { protocol: V1 });
    const closed = await bad.closed;
    assert.equal(closed.code, 4007);
    assert.match(closed.reason, /position/);
  });

  void it('a token from another IP works with --resume-any-ip', async (t) => {
    const { ssh, url } = await setupFake(t, ['--resume-any-ip']);
    const { ws, ready } = await resumableLogin(url, ssh);
    const have = position(ws);
    ws.terminate();
    const { ws: again } = await resume(url, ready.resume?.token ?? '', have, { localAddress: '127.0.0.2' });
    again.sendBinary(Buffer.from('echo roamed\r'));
    await again.waitForOutput('roamed');
    again.close(1000);
  });

  void it('a resume while the old socket is still open takes the session over (4008)', async (t) => {
    const { ssh, url } = await setupFake(t);
    const { ws, ready } = await resumableLogin(url, ssh);
    const { ws: again, resumed } = await resume(url, ready.resume?.token ?? '', position(ws));
    assert.equal(resumed.lost, 0);
    const old = await ws.closed;
    assert.equal(old.code, 4008);
    assert.match(old.reason, /^SESSION_TAKEN_OVER/);
    assert.ok(ws.controls().some((m) => isType('error')(m) && (m as { code: string }).code === 'SESSION_TAKEN_OVER'));
    again.sendBinary(Buffer.from('echo new-owner\r'));
    await again.waitForOutput('new-owner');
    again.close(1000);
  });

  void it('a close 1000 from the client ends the session; so does the shell exiting while detached', async (t) => {
    const { ssh, bridge, url } = await setupFake(t);
    const a = await resumableLogin(url, ssh);
    a.ws.close(1000);
    await until(() => sessionEnds(bridge).length === 1, 'the first session_end');
    assert.equal(sessionEnds(bridge)[0]?.code, 'CLIENT_CLOSED');
    const b = await resumableLogin(url, ssh);
    b.ws.sendBinary(Buffer.from('exit 0\r'));
    b.ws.terminate();
    await until(() => sessionEnds(bridge).length === 2, 'the second session_end');
    assert.equal(sessionEnds(bridge)[1]?.code, 'SHELL_EXITED');
  });

  void it('grace expiry closes the SSH side and reports RESUME_EXPIRED', async (t) => {
    const { ssh, bridge, url } = await setupFake(t, ['--resume-grace', '300ms']);
    const { ws, ready } = await resumableLogin(url, ssh);
    ws.terminate();
    await until(() => sessionEnds(bridge).length === 1, 'session_end');
    assert.equal(sessionEnds(bridge)[0]?.code, 'RESUME_EXPIRED');
    await until(() => ssh.events.openConnections === 0, 'the SSH connection to close');
    const late = await openWs(`${url}?resume=${ready.resume?.token ?? ''}&position=0`, { protocol: V1 });
    assert.equal((await late.closed).code, 4007);
  });

  void it('overflow while detached: the client learns how much was lost and gets the newest output', async (t) => {
    const { ssh, bridge, url } = await setupFake(t, ['--resume-buffer', '4KiB']);
    const { ws, ready } = await resumableLogin(url, ssh);
    const have = position(ws);
    ws.terminate();
    await until(() => bridge.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach');
    // Resume, start a flood, and drop the socket again without reading it.
    const first = await resume(url, ready.resume?.token ?? '', have);
    first.ws.ws.pause(); // read nothing more: the flood goes to the log after the drop
    first.ws.sendBinary(Buffer.from('flood 50000\r'));
    await until(() => ssh.events.input().toString('latin1').includes('flood 50000'), 'the command to reach the shell');
    first.ws.terminate();
    await until(() => bridge.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach again');
    // The flood and the prompt after it all went into the 4 KiB log.
    await until(() => Number(bridge.app.manager.sessionStats()[0]?.output_position) >= have + 50_000 + FAKE_PROMPT.length, 'the flood to end');
    const { ws: again, resumed } = await resume(url, first.resumed.resume.token, have);
    assert.ok(resumed.lost > 0, `lost ${resumed.lost}`);
    assert.equal(resumed.position, have + resumed.lost);
    await again.waitForOutput(FAKE_PROMPT);
    const replay = Buffer.from(again.output(), 'utf8');
    assert.ok(replay.length <= 4096, `replayed ${replay.length} bytes from a 4 KiB buffer`);
    assert.ok(replay.toString('latin1').endsWith(`\r\n${FAKE_PROMPT}`));
    again.close(1000);
  });

  void it('detached sessions count against the limits', async (t) => {
    const { ssh, bridge, url } = await setupFake(t, ['--conn-max-per-host', '1']);
    const { ws } = await resumableLogin(url, ssh);
    ws.terminate();
    await until(() => bridge.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach');
    const refused = await openWs(url, { protocol: V1 });
    const closed = await refused.closed;
    assert.equal(closed.code, 1013);
    assert.match(closed.reason, /^LIMIT_PER_IP/);
  });

  void it('drain tells a resumable client 1012 RESTARTING and ends detached sessions', async (t) => {
    const ssh = await startFakeSsh();
    t.after(() => ssh.close());
    const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure']);
    t.after(() => bridge.close());
    const u = `${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`;
    const attached = await resumableLogin(u, ssh);
    const detached = await resumableLogin(u, ssh);
    detached.ws.terminate();
    await until(() => bridge.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'one session to detach');
    await bridge.close();
    const closed = await attached.ws.closed;
    assert.equal(closed.code, 1012);
    assert.match(closed.reason, /^RESTARTING/);
    assert.equal(bridge.app.manager.size, 0);
  });

  void it('with flow control, the replay is acknowledged like any output', async (t) => {
    const { ssh, url } = await setupFake(t);
    const { ws, ready } = await resumableLogin(url, ssh, {}, { flowControl: true });
    ws.sendJson({ type: 'ack', bytes: position(ws) });
    ws.sendBinary(Buffer.from('flood 3000000\r'));
    await ws.waitForOutput('0123456789');
    const have = position(ws);
    ws.terminate();
    const { ws: again, resumed } = await resume(url, ready.resume?.token ?? '', have);
    // Ack as we go, as the page does; without acks the bridge would pause at 1 MiB for good.
    let acked = 0;
    again.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      acked += data.length;
      again.sendJson({ type: 'ack', bytes: data.length });
    });
    await again.waitForOutput(FAKE_PROMPT, 30_000);
    // The flood went on while detached and may have overflowed the 1 MiB log: what was not lost arrived.
    assert.ok(resumed.position + Buffer.byteLength(again.output(), 'utf8') > 3_000_000);
    assert.ok(acked > 0);
    again.close(1000);
  });
});

void describe('resume against a real OpenSSH sshd', () => {
  const fixture = useSshdBridge(['--host-key-policy', 'accept-new-insecure', '--resume-grace', '3s']);
  const ready = (t: TestContext): boolean => fixture.ready(t);

  async function login(): Promise<{ ws: TestWs; token: string }> {
    const ws = await openWs(fixture.url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: fixture.sshd?.username, password: fixture.sshd?.password, resume: true });
    const r = (await ws.waitForControl(isType('ready'), 15_000)) as Ready;
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    return { ws, token: r.resume?.token ?? '' };
  }

  void it('the socket is cut mid `seq 1 100000`: after the resume every number arrives exactly once, in order', async (t) => {
    if (!ready(t)) return;
    const { ws, token } = await login();
    ws.sendBinary(Buffer.from('seq 1 100000; echo SEQ-""DONE\r'));
    await ws.waitForOutput(/\r\n3\d{4}\r\n/, 15_000);
    const have = position(ws);
    const got = ws.output();
    ws.terminate();
    const again = await resume(fixture.url, token, have);
    assert.equal(again.resumed.lost, 0);
    await again.ws.waitForOutput('SEQ-DONE', 30_000);
    const lines = (got + again.ws.output()).split('\r\n').filter((l) => /^\d+$/.test(l)).map(Number);
    assert.equal(lines.length, 100000);
    assert.ok(lines.every((n, i) => n === i + 1), 'in order, no gap, no duplicate');
    again.ws.close(1000);
  });

  void it('grace expiry ends the remote shell', async (t) => {
    const sshd = fixture.sshd;
    if (!ready(t) || sshd === undefined) return;
    const before = (await sshd.userProcesses()).length;
    const { ws } = await login();
    ws.sendBinary(Buffer.from('sleep 1000\r'));
    await until(async () => (await sshd.userProcesses()).length > before, 'sleep running on the target');
    ws.terminate();
    await sleep(1000);
    assert.ok((await sshd.userProcesses()).length > before, 'the shell survives the drop during the grace period');
    await until(async () => (await sshd.userProcesses()).length <= before, 'the remote shell to end after the grace period', 20_000);
  });
});

void test('resume survives nothing it should not: a reused token after a successful resume is refused', async (t) => {
  const { ssh, url } = await setupFake(t);
  const { ws, ready } = await resumableLogin(url, ssh);
  ws.terminate();
  const first = await resume(url, ready.resume?.token ?? '', position(ws));
  const replay = await openWs(`${url}?resume=${ready.resume?.token ?? ''}&position=0`, { protocol: V1 });
  assert.equal((await replay.closed).code, 4007);
  first.ws.sendBinary(Buffer.from('echo unaffected\r'));
  await first.ws.waitForOutput('unaffected');
  first.ws.close(1000);
});

void test('the relay socket takes only relayed requests: a plain upgrade on it is refused with BAD_REQUEST', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-relay-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure'], { relay: { dir, self: 7 } });
  t.after(() => bridge.close());
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = connect(join(dir, '7.sock'), () => {
      sock.write('GET /ws/127.0.0.1/22 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    });
    let text = '';
    sock.on('data', (d: Buffer) => { text += d.toString('latin1'); });
    sock.on('close', () => resolve(text));
    sock.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 400 /);
  assert.match(reply, /"code":"BAD_REQUEST"/);
  assert.match(reply, /not a relayed request/);
});

