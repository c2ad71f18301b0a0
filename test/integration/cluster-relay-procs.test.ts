/**
 * The relay between nodes with real node processes (the CLI): a `--workers 2` node, whose relay
 * listener its workers share, takes resumes relayed from another node and hands each to the
 * worker holding the session (and `listening` names the gateway's port, not the relay's); a node killed with -9 takes its sessions with it, and a resume of
 * one through another node is refused (RESUME_INVALID), whatever is still in Redis.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { spawnCli, type CliProcess } from '../helpers/cli.js';
import { keyringFlags } from '../helpers/keyring.js';
import { makePki, type KeyPair } from '../helpers/pki.js';
import { useRedis } from '../helpers/redis.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { until } from '../helpers/until.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const LEASE = ['--cluster-lease', '6000ms'];
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;

interface Session { ws: TestWs; token: string; sessionId: string }

/** The relay flags of node `name`: its certificate from the test CA. */
function relayFlags(pki: ReturnType<typeof makePki>, ca: KeyPair, name: string): string[] {
  const peer = pki.peer(name, ca);
  return ['--node-relay-address', '127.0.0.1:0', '--node-relay-cert', peer.cert, '--node-relay-key', peer.key, '--node-relay-ca', ca.cert];
}

async function setup(t: TestContext): Promise<{ redisUrl: string; ssh: FakeSshHandle; flags: (name: string) => string[] } | null> {
  const redis = await useRedis(t);
  if (redis === null) return null;
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const pki = makePki();
  t.after(() => pki.remove());
  const ca = pki.ca('relay-ca');
  const flags = (name: string): string[] => [
    '--cluster-redis', redis.url, '--node-id', name, ...LEASE, ...keyringFlags(t), ...relayFlags(pki, ca, name),
    '--host-key-policy', 'accept-new-insecure', '--rate-burst', '1000',
  ];
  return { redisUrl: redis.url, ssh, flags };
}

async function cliNode(t: TestContext, args: string[]): Promise<{ cli: CliProcess; port: number }> {
  const cli = spawnCli(['--server-address', '127.0.0.1:0', ...args]);
  t.after(() => cli.stop());
  const port = await cli.listening();
  await cli.waitForLog((l) => l.event === 'relay_announced');
  return { cli, port };
}

async function inProcessNode(t: TestContext, args: string[]): Promise<BridgeHandle> {
  const node = await startBridge(args);
  t.after(() => node.close());
  await until(() => node.app.manager.stats().cluster?.valid === true && node.logs().some((l) => l.event === 'relay_announced'), 'the node to hold its lease and announce its relay');
  return node;
}

async function login(url: string, ssh: FakeSshHandle): Promise<Session> {
  const ws = await openWs(url, { protocol: V1 });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, resume: true });
  const ready = (await ws.waitForControl(isType('ready'))) as { sessionId: string; resume: { token: string } };
  registerSecret(ready.resume.token);
  await ws.waitForOutput(FAKE_PROMPT);
  return { ws, token: ready.resume.token, sessionId: ready.sessionId };
}

/** Resume `s` at `url` from what it has received; resolves with the new socket, or the close that refused it. */
async function resume(url: string, s: Session): Promise<{ ws: TestWs; token?: string; close?: { code: number; reason: string } }> {
  const ws = await openWs(`${url}?resume=${encodeURIComponent(s.token)}&position=${Buffer.byteLength(s.ws.output(), 'utf8')}`, { protocol: V1 });
  const first = await Promise.race([
    ws.waitForControl(isType('resumed')).then((m) => ({ token: (m as { resume: { token: string } }).resume.token, close: undefined })),
    ws.closed.then((c) => ({ token: undefined, close: c })),
  ]);
  if (first.token !== undefined) registerSecret(first.token);
  return first.token !== undefined ? { ws, token: first.token } : { ws, close: first.close };
}

void test('a --workers 2 node takes resumes relayed from another node, each reaching the worker that holds its session', async (t) => {
  const rig = await setup(t);
  if (rig === null) return;
  const { cli, port } = await cliNode(t, ['--workers', '2', ...rig.flags('gw-w')]);
  const other = await inProcessNode(t, rig.flags('gw-o'));
  const url = (p: number): string => `ws://127.0.0.1:${p}/ws/127.0.0.1/${rig.ssh.port}`;
  const sessions: Session[] = [];
  for (let i = 0; i < 4; i++) sessions.push(await login(url(port), rig.ssh));
  for (const s of sessions) assert.match(s.token, /^gw-w~\d+\./, 'the token names the node and the worker');
  // Three rounds: drop, resume through the other node, echo; each resume lands on either worker of gw-w.
  for (let round = 0; round < 3; round++) {
    for (const s of sessions) {
      s.ws.terminate();
      await s.ws.closed;
      const r = await resume(url(other.port), s);
      assert.ok(r.token !== undefined, `resume refused: ${JSON.stringify(r.close)}`);
      assert.equal(r.token.split('.')[0], s.token.split('.')[0], 'the session stays with its worker');
      s.ws = r.ws;
      s.token = r.token;
      s.ws.sendBinary(Buffer.from(`echo round-${round}\r`));
      await s.ws.waitForOutput(`round-${round}`);
    }
  }
  assert.equal(other.app.manager.size, 0, 'the other node only relayed');
  assert.deepEqual(other.app.relayStats()?.out, { ok: 12, failed: 0 });
  // Which worker's relay listener takes a connection is node:cluster's choice; when it is not the
  // session's worker, the request goes on over the Unix socket (the rule: src/http/relay-route.ts).
  t.diagnostic(`hops to the other worker inside gw-w: ${cli.logs().filter((l) => l.event === 'resume_relayed').length} of 12`);
  for (const s of sessions) s.ws.close(1000);
});

void test('kill -9 of a node holding 10 sessions: its clients see the close, and a resume through another node is RESUME_INVALID', async (t) => {
  const rig = await setup(t);
  if (rig === null) return;
  const { cli: victim, port } = await cliNode(t, ['--workers', '1', ...rig.flags('victim')]);
  const survivor = await inProcessNode(t, rig.flags('survivor'));
  const sessions: Session[] = [];
  for (let i = 0; i < 10; i++) sessions.push(await login(`ws://127.0.0.1:${port}/ws/127.0.0.1/${rig.ssh.port}`, rig.ssh));
  victim.child.kill('SIGKILL');
  await Promise.all(sessions.map((s) => s.ws.closed));
  // The victim's entry and tokens are still in Redis until its lease runs out: the dial fails, and that is the answer.
  const r = await resume(`${survivor.wsBase}/ws/127.0.0.1/${rig.ssh.port}`, sessions[0] ?? assert.fail('no session'));
  assert.equal(r.close?.code, 4007);
  const why = survivor.logs().filter((l) => l.event === 'resume_refused').map((l) => String(l.why));
  assert.ok(why.some((w) => w === 'node victim unreachable' || w === 'no such token on node victim'), JSON.stringify(why));
});
