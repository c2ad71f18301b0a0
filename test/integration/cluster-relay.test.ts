/**
 * Resume and view through any node (docs/scaling.md#resume-and-view-through-any-node): three
 * in-process nodes on one real redis-server, each with its relay listener (mutual TLS, a test
 * CA), real WebSocket clients and the in-process SSH server. A resume reaching another node is
 * relayed to the owner and gets exact bytes; a forged or used token reaches no internal link; a
 * viewer on another node watches and takes a slot; a node that stopped answers no relay.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { ANONYMOUS } from '../../src/auth/identity.js';
import { FACTS_HEADER, signFacts } from '../../src/cluster/relay-facts.js';
import { randomKeyring } from '../../src/auth/keyring.js';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { makePki } from '../helpers/pki.js';
import { call, filesToken, q } from '../helpers/files-client.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { startSshd } from '../helpers/sshd.js';
import { clusterKeyring, keyringFlags, newTestKey } from '../helpers/keyring.js';
import { useRedis, type RedisHandle } from '../helpers/redis.js';
import { FAKE_PROMPT, startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { registerSecret } from '../helpers/secrets.js';
import { until } from '../helpers/until.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;

interface Grant { token: string }
interface Ready { type: 'ready'; sessionId: string; resume?: Grant }
interface Resumed { type: 'resumed'; sessionId: string; position: number; lost: number; resume: Grant }

/** Three nodes `node-1..3` on one Redis, with relays that trust one CA and share one keyring. */
async function relayNodes(t: TestContext, redisUrl: string, flags: readonly string[] = []): Promise<BridgeHandle[]> {
  const pki = makePki();
  t.after(() => pki.remove());
  const ca = pki.ca('relay-ca');
  const nodes: BridgeHandle[] = [];
  for (let i = 1; i <= 3; i++) {
    const peer = pki.peer(`node-${i}`, ca);
    const bridge = await startBridge([
      '--cluster-redis', redisUrl, '--node-id', `node-${i}`, '--cluster-lease', '6000ms', '--metrics-enabled', '--rate-burst', '1000',
      '--host-key-policy', 'accept-new-insecure', '--node-relay-address', '127.0.0.1:0',
      '--node-relay-cert', peer.cert, '--node-relay-key', peer.key, '--node-relay-ca', ca.cert, ...keyringFlags(t), ...flags,
    ]);
    t.after(() => bridge.close());
    nodes.push(bridge);
  }
  await until(() => nodes.every((b) => b.app.manager.stats().cluster?.valid === true && b.logs().some((l) => l.event === 'relay_announced')), 'every node to hold its lease and announce its relay');
  return nodes;
}

async function fakeSsh(t: TestContext): Promise<FakeSshHandle> {
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  return ssh;
}

const target = (b: BridgeHandle, ssh: FakeSshHandle): string => `${b.wsBase}/ws/127.0.0.1/${ssh.port}`;

async function login(url: string, ssh: FakeSshHandle, extra: Record<string, unknown> = {}): Promise<{ ws: TestWs; ready: Ready }> {
  const ws = await openWs(url, { protocol: V1 });
  ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, resume: true, ...extra });
  const ready = (await ws.waitForControl(isType('ready'))) as Ready;
  if (ready.resume !== undefined) registerSecret(ready.resume.token);
  await ws.waitForOutput(FAKE_PROMPT);
  return { ws, ready };
}

/** A resume's first answer: `resumed`, or the close that refused it. */
async function tryResume(url: string, token: string, position: number): Promise<{ ws: TestWs; resumed?: Resumed; close?: { code: number; reason: string } }> {
  const ws = await openWs(`${url}?resume=${encodeURIComponent(token)}&position=${position}`, { protocol: V1 });
  const first = await Promise.race([
    ws.waitForControl(isType('resumed')).then((m) => ({ resumed: m as Resumed, close: undefined })),
    ws.closed.then((c) => ({ resumed: undefined, close: c })),
  ]);
  if (first.resumed !== undefined) registerSecret(first.resumed.resume.token);
  return first.resumed !== undefined ? { ws, resumed: first.resumed } : { ws, close: first.close };
}

const relayStats = (b: BridgeHandle): { out: { ok: number; failed: number }; in: { ok: number; refused: number } } => {
  const s = b.app.relayStats();
  assert.ok(s !== undefined, 'the node has a relay between nodes');
  return s;
};

/**
 * Redis, the in-process SSH server and three relay nodes, with a resumable session logged in on
 * node 1; null when Redis is missing (skipped outside CI).
 */
async function sessionOnNode1(t: TestContext, flags: readonly string[] = []): Promise<{ ssh: FakeSshHandle; redis: RedisHandle; nodes: [BridgeHandle, BridgeHandle, BridgeHandle]; ws: TestWs; ready: Ready } | null> {
  const redis = await useRedis(t);
  if (redis === null) return null;
  const ssh = await fakeSsh(t);
  const [n1, n2, n3] = await relayNodes(t, redis.url, flags);
  assert.ok(n1 !== undefined && n2 !== undefined && n3 !== undefined);
  const { ws, ready } = await login(target(n1, ssh), ssh);
  return { ssh, redis, nodes: [n1, n2, n3], ws, ready };
}

void test('a resume that reaches another node is relayed to the owner: exact bytes, the same SSH connection, a rotated token', async (t) => {
  const rig = await sessionOnNode1(t);
  if (rig === null) return;
  const { ssh, ws, ready, nodes: [n1, n2] } = rig;
  assert.match(ready.resume?.token ?? '', /^node-1~0\.[A-Za-z0-9_-]{43}$/, 'the token names its node');
  ws.sendBinary(Buffer.from('count 20000\r'));
  await ws.waitForOutput('\r\n5000\r\n');
  const received = ws.output();
  const have = Buffer.byteLength(received, 'utf8');
  ws.terminate();
  await until(() => n1.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach');
  const { ws: again, resumed, close } = await tryResume(target(n2, ssh), ready.resume?.token ?? '', have);
  assert.ok(resumed !== undefined, `resume refused: ${JSON.stringify(close)}`);
  assert.equal(resumed.sessionId, ready.sessionId);
  assert.equal(resumed.position, have);
  assert.equal(resumed.lost, 0);
  assert.match(resumed.resume.token, /^node-1~0\./, 'the next token still names the owner');
  await again.waitForOutput(`20000\r\n${FAKE_PROMPT}`);
  const numbers = (received + again.output()).split('\r\n').filter((l) => /^\d+$/.test(l)).map(Number);
  assert.equal(numbers.length, 20000, 'every number exactly once');
  assert.ok(numbers.every((n, i) => n === i + 1), 'in order');
  again.sendBinary(Buffer.from('echo via-node-2\r'));
  await again.waitForOutput('via-node-2');
  assert.equal(ssh.events.connections, 1, 'the same SSH connection all along');
  assert.deepEqual(relayStats(n2).out, { ok: 1, failed: 0 });
  assert.deepEqual(relayStats(n1).in, { ok: 1, refused: 0 });
  assert.equal(n2.app.manager.size, 0, 'node 2 holds no session: it only relayed');
  again.close(1000);
  await again.closed;
  await until(() => n1.app.manager.size === 0, 'the session to end on its owner');
});

void test('a forged token, a used one and one of a node that stopped reach no internal link: RESUME_INVALID', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const [n1, n2, n3] = await relayNodes(t, redis.url);
  assert.ok(n1 !== undefined && n2 !== undefined && n3 !== undefined);
  // Forged: the owner prefix of a live node, a random secret.
  const forged = await tryResume(target(n2, ssh), `node-1~0.${randomBytes(32).toString('base64url')}`, 0);
  assert.equal(forged.close?.code, 4007);
  // Used: resumed once through node 2, then the same token through node 3.
  const { ws, ready } = await login(target(n1, ssh), ssh);
  const token = ready.resume?.token ?? '';
  ws.terminate();
  await until(() => n1.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach');
  const first = await tryResume(target(n2, ssh), token, Buffer.byteLength(ws.output(), 'utf8'));
  assert.ok(first.resumed !== undefined, JSON.stringify(first.close));
  const replay = await tryResume(target(n3, ssh), token, 0);
  assert.equal(replay.close?.code, 4007);
  assert.deepEqual(relayStats(n3).out, { ok: 0, failed: 0 }, 'the replay was not dialed');
  assert.deepEqual(relayStats(n1).in, { ok: 1, refused: 0 }, 'only the good resume reached the owner');
  assert.deepEqual(relayStats(n2).out, { ok: 1, failed: 0 }, 'the forged token was not dialed');
  // A node that stopped: its entry and tokens leave Redis with it.
  const live = first.resumed?.resume.token ?? '';
  first.ws.terminate();
  await n1.close();
  const gone = await tryResume(target(n3, ssh), live, 0);
  assert.equal(gone.close?.code, 4007);
  assert.deepEqual(relayStats(n3).out, { ok: 0, failed: 0 });
  const logged = n3.logs().filter((l) => l.event === 'resume_refused').map((l) => l.why);
  assert.ok(logged.includes('no such token on node node-1'), JSON.stringify(logged));
});

void test('a viewer on node 3 watches a session on node 1, and takes a slot while it watches', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const [n1, , n3] = await relayNodes(t, redis.url, ['--conn-max-total', '2']);
  assert.ok(n1 !== undefined && n3 !== undefined);
  const { ws: owner } = await login(target(n1, ssh), ssh);
  owner.sendJson({ type: 'share' });
  const shared = (await owner.waitForControl(isType('shared'))) as { token: string };
  registerSecret(shared.token);
  assert.match(shared.token, /^node-1~0\./);
  // A link whose signature does not verify is refused where it arrives: nothing is dialed.
  const resigned = `${shared.token.slice(0, shared.token.lastIndexOf('.') + 1)}${randomBytes(32).toString('base64url').slice(0, 43)}`;
  const forged = await openWs(`${target(n3, ssh)}?share=${resigned}`, { protocol: V1 });
  assert.match((await forged.closed).reason, /^SHARE_INVALID/);
  assert.deepEqual(relayStats(n3).out, { ok: 0, failed: 0 }, 'the forged link was not dialed');
  const viewer = await openWs(`${target(n3, ssh)}?share=${shared.token}`, { protocol: V1 });
  await viewer.waitForControl(isType('viewing'));
  owner.sendBinary(Buffer.from('echo seen-on-node-3\r'));
  await viewer.waitForOutput('seen-on-node-3');
  assert.deepEqual(relayStats(n3).out, { ok: 1, failed: 0 });
  // Session + viewer = the limit of 2, on any node.
  const third = await openWs(target(n3, ssh), { protocol: V1 });
  assert.match((await third.closed).reason, /^LIMIT_TOTAL/, 'a v1 client hears the refusal in the close');
  viewer.close(1000);
  await viewer.closed;
  owner.close(1000);
  await owner.closed;
});

/** The relay listener's address a node registered. */
function relayAddressOf(b: BridgeHandle): { host: string; port: number } {
  const line = b.logs().find((l) => l.event === 'relay_announced');
  const m = /^(.+):(\d+)$/.exec(String(line?.address));
  assert.ok(m?.[1] !== undefined && m[2] !== undefined, 'the node announced its relay');
  return { host: m[1], port: Number(m[2]) };
}

/** A TLS connection to `at` with `opts`: 'ok' once the handshake completed (then closed), or the error's code. */
function handshake(at: { host: string; port: number }, opts: { cert?: Buffer; key?: Buffer; ca: Buffer }): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ ...at, ...opts, checkServerIdentity: () => undefined });
    s.once('secureConnect', () => {
      // TLS 1.3: a refused client certificate is only reported after the handshake, on the first read.
      s.once('data', () => resolve('ok'));
      s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.once('close', () => resolve('closed'));
  });
}

void test('the relay listener takes only peers with a certificate of its CA, and only facts its keyring signed', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const [n1] = await relayNodes(t, redis.url);
  assert.ok(n1 !== undefined);
  const at = relayAddressOf(n1);
  const pki = makePki();
  t.after(() => pki.remove());
  const ca = readFileSync(n1.app.config.nodeRelayCa ?? '');
  const stranger = pki.peer('stranger', pki.ca('other-ca'));
  assert.notEqual(await handshake(at, { ca }), 'ok', 'no client certificate');
  assert.notEqual(await handshake(at, { ca, cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) }), 'ok', 'a certificate of another CA');
  // A peer of this CA whose facts another keyring signed: refused in HTTP, counted, never attached.
  const cert = readFileSync(n1.app.config.nodeRelayCert ?? '');
  const key = readFileSync(n1.app.config.nodeRelayKey ?? '');
  const url = `/ws/127.0.0.1/22?resume=node-1~0.${randomBytes(32).toString('base64url')}&position=0`;
  const facts = signFacts(randomKeyring(), { clientIp: '127.0.0.1', identity: ANONYMOUS }, 'GET', url, Date.now());
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest({ ...at, path: url, cert, key, ca, checkServerIdentity: () => undefined, headers: { [FACTS_HEADER]: facts, Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': randomBytes(16).toString('base64'), 'Sec-WebSocket-Protocol': V1 } });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('upgrade', () => resolve(101));
    req.on('error', reject);
    req.end();
  });
  assert.equal(status, 400);
  assert.deepEqual(relayStats(n1).in, { ok: 0, refused: 1 });
  assert.ok(n1.logs().some((l) => l.event === 'node_relay_refused' && l.why === 'unknown relay key p'));
  const metrics = await n1.app.metrics.registry.metrics();
  assert.match(metrics, /^webssh_bridge_node_relays_total\{direction="in",outcome="refused"\} 1$/m);
});

void test('Redis restarted empty: the nodes register their relays and tokens again, and a resume through another node works', async (t) => {
  const rig = await sessionOnNode1(t);
  if (rig === null) return;
  const { ssh, redis, ws, ready, nodes: [n1, n2] } = rig;
  ws.terminate();
  await until(() => n1.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach');
  await redis.restartEmpty();
  await until(async () => (await redis.command('HLEN', `{uwsb}:resumes:${String(n1.app.manager.stats().cluster?.incarnation)}`)) === ':1\r\n', 'node 1 to send its token again');
  const { resumed, close } = await tryResume(target(n2, ssh), ready.resume?.token ?? '', Buffer.byteLength(ws.output(), 'utf8'));
  assert.ok(resumed !== undefined, `resume refused: ${JSON.stringify(close)}`);
  assert.equal(resumed.sessionId, ready.sessionId);
  assert.ok(n1.logs().some((l) => l.event === 'relay_tokens_republished'));
});

void test('a relayed session idle past conn-timeout stays open: the relaying node does not time the owner\'s WebSocket out', async (t) => {
  const rig = await sessionOnNode1(t, ['--conn-timeout', '1s']);
  if (rig === null) return;
  const { ssh, ws, ready, nodes: [n1, n2] } = rig;
  ws.terminate();
  await until(() => n1.app.manager.sessionStats().some((s) => s.state === 'DETACHED'), 'the session to detach');
  const { ws: again, resumed, close } = await tryResume(target(n2, ssh), ready.resume?.token ?? '', Buffer.byteLength(ws.output(), 'utf8'));
  assert.ok(resumed !== undefined, `resume refused: ${JSON.stringify(close)}`);
  // Nothing moves for 2.5 conn-timeouts (the pings come every 30 s).
  const ended = await Promise.race([again.closed.then(() => true), sleep(2500).then(() => false)]);
  assert.equal(ended, false, 'the relayed socket is still open');
  again.sendBinary(Buffer.from('echo after-the-quiet\r'));
  await again.waitForOutput('after-the-quiet');
  again.close(1000);
  await again.closed;
});

void test('file requests through any node (real sshd, sftp): upload on node 2, a download link minted on node 3 and fetched on node 2; a forged token dials nothing', async (t) => {
  if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return;
  const redis = await useRedis(t);
  if (redis === null) return;
  const sshd = await startSshd();
  t.after(() => sshd.stop());
  const [n1, n2, n3] = await relayNodes(t, redis.url);
  assert.ok(n1 !== undefined && n2 !== undefined && n3 !== undefined);
  const ws = await openWs(`${n1.wsBase}/ws/127.0.0.1/${sshd.port}`, { protocol: V1 });
  t.after(() => ws.close());
  ws.sendJson({ type: 'auth', username: sshd.username, password: sshd.password });
  await ws.waitForControl(isType('ready'), 15_000);
  const token = await filesToken(ws);
  assert.match(token, /^node-1~0\./);
  const dir = `uwsb-relay-${randomBytes(4).toString('hex')}`;
  t.after(() => rmSync(join('/home/uwsbtest', dir), { recursive: true, force: true }));
  assert.equal((await call(n3.url, 'POST', `api/files/mkdir?${q({ path: dir })}`, { token })).status, 201);
  const body = randomBytes(3 * 1024 * 1024 + 17);
  const up = await call(n2.url, 'PUT', `api/files/upload?${q({ path: `${dir}/via-node-2.bin` })}`, { token, body });
  assert.equal(up.status, 201, up.body.toString());
  assert.equal(up.json?.['sha256'], createHash('sha256').update(body).digest('hex'));
  const link = await call(n3.url, 'POST', `api/files/download-link?${q({ path: `${dir}/via-node-2.bin` })}`, { token });
  assert.equal(link.status, 200, link.body.toString());
  const url = new URL(String(link.json?.['url']), `${n2.url}/`);
  const got = await call(n2.url, 'GET', `${url.pathname.slice(1)}${url.search}`);
  assert.equal(got.status, 200);
  assert.ok(got.body.equals(body), 'the same bytes back, through node 2');
  assert.equal(n1.app.manager.size, 1, 'node 1 served every request');
  const out2 = relayStats(n2).out.ok;
  const forged = `${token.slice(0, token.lastIndexOf('.') + 1)}${randomBytes(32).toString('base64url').slice(0, 43)}`;
  const refused = await call(n2.url, 'GET', `api/files/list?${q({ path: dir })}`, { token: forged });
  assert.equal(refused.status, 401);
  assert.equal(refused.json?.['code'], 'FILES_TOKEN_INVALID');
  assert.equal(relayStats(n2).out.ok, out2, 'the forged token was not dialed');
});

void test('a keyring rotation on every node: links of a listed key still work through another node, new links work everywhere, a removed key\'s links are refused where they arrive', async (t) => {
  const redis = await useRedis(t);
  if (redis === null) return;
  const ssh = await fakeSsh(t);
  const nodes = await relayNodes(t, redis.url);
  const [n1, n2] = nodes;
  assert.ok(n1 !== undefined && n2 !== undefined);
  const { ws: owner } = await login(target(n1, ssh), ssh);
  const share = async (): Promise<string> => {
    const before = owner.controls().filter(isType('shared')).length;
    owner.sendJson({ type: 'share' });
    await owner.waitForControl(() => owner.controls().filter(isType('shared')).length > before);
    const { token } = owner.controls().filter(isType('shared')).at(-1) as { token: string };
    registerSecret(token);
    return token;
  };
  const watch = async (link: string): Promise<string> => {
    const viewer = await openWs(`${target(n2, ssh)}?share=${link}`, { protocol: V1 });
    const first = await Promise.race([viewer.waitForControl(isType('viewing')).then(() => 'viewing'), viewer.closed.then((c) => c.reason)]);
    viewer.close(1000);
    await viewer.closed;
    return first;
  };
  const k1 = clusterKeyring(t);
  const old = await share();
  assert.equal(await watch(old), 'viewing');
  // Step 1: a new key first, the old one still listed, on every node.
  const first = readFileSync(k1.path, 'utf8').split('\n').find((l) => /^k1 /.test(l)) ?? assert.fail('k1 line');
  const [, secret1 = ''] = first.split(' ');
  const k2 = newTestKey('k2');
  k1.write([k2, { id: 'k1', secret: secret1 }]);
  for (const n of nodes) await n.app.reload();
  const fresh = await share();
  assert.equal(await watch(fresh), 'viewing', 'a link of the new key works on another node');
  assert.equal(await watch(old), 'viewing', 'a link of a key still listed works');
  // Step 2: the old key removed everywhere.
  k1.write([k2]);
  for (const n of nodes) await n.app.reload();
  const dialed = relayStats(n2).out.ok;
  assert.match(await watch(old), /^SHARE_INVALID/);
  assert.equal(relayStats(n2).out.ok, dialed, 'refused where it arrived: nothing dialed');
  assert.ok(n2.logs().some((l) => l.event === 'viewer_refused' && l.why === 'unknown key'), 'node 2 refused it itself');
  assert.equal(await watch(fresh), 'viewing');
  owner.close(1000);
  await owner.closed;
});
