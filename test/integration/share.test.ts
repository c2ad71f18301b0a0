/**
 * View-only sharing (docs/protocol.md#sharing) through the real bridge and the in-process SSH
 * server: links, the snapshot then live output, read-only viewers, revoke and expiry, limits, a
 * slow viewer that is dropped instead of slowing the owner. Behaviour only, no timing assertions.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setupFake } from '../helpers/fake-session.js';
import { FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { expectHttpRejection, openWs, TestWs, type WsOpts } from '../helpers/ws-client.js';
import WebSocket from 'ws';
import type { BridgeHandle } from '../helpers/bridge.js';
import { registerSecret } from '../helpers/secrets.js';
import xtermHeadless from '@xterm/headless';
import { until } from '../helpers/until.js';

const { Terminal } = xtermHeadless;

const V1 = 'webssh-bridge.v1';
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;

interface Shared { type: 'shared'; linkId: string; token: string; expiresAt: string; mode: string }
interface Viewers { type: 'viewers'; viewers: Array<{ id: string; subject: string; clientIp: string; linkId: string }> }

interface Rig { ssh: FakeSshHandle; bridge: BridgeHandle; url: string; owner: TestWs }

async function ownerSession(t: TestContext, flags: string[] = []): Promise<Rig> {
  const { ssh, bridge, url } = await setupFake(t, flags);
  const owner = await openWs(url, { protocol: V1 });
  owner.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 100, rows: 30 });
  await owner.waitForControl(isType('ready'));
  await owner.waitForOutput(FAKE_PROMPT);
  return { ssh, bridge, url, owner };
}

/** Ask for a link; resolves with the `shared` answer (its token is a secret from now on). */
async function share(owner: TestWs, extra: Record<string, unknown> = {}): Promise<Shared> {
  const before = owner.controls().filter(isType('shared')).length;
  owner.sendJson({ type: 'share', ...extra });
  await owner.waitForControl(() => owner.controls().filter(isType('shared')).length > before);
  const shared = owner.controls().filter(isType('shared')).at(-1) as Shared;
  registerSecret(shared.token);
  return shared;
}

async function view(url: string, token: string, opts: WsOpts = {}): Promise<TestWs> {
  const viewer = await openWs(`${url}?share=${token}`, { protocol: V1, ...opts });
  await viewer.waitForControl(isType('viewing'));
  return viewer;
}

const lastViewers = (owner: TestWs): Viewers['viewers'] | undefined => (owner.controls().filter(isType('viewers')).at(-1) as Viewers | undefined)?.viewers;

/** The screen a terminal of that size shows after these bytes (headless xterm.js). */
async function screenOf(bytes: Buffer, cols: number, rows: number): Promise<string> {
  const term = new Terminal({ cols, rows, scrollback: 0, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(bytes, resolve));
  const lines: string[] = [];
  for (let y = 0; y < rows; y++) lines.push(term.buffer.active.getLine(term.buffer.active.viewportY + y)?.translateToString(true) ?? '');
  term.dispose();
  return lines.join('\n');
}

void describe('sharing a session, view only', () => {
  void it('a viewer sees the snapshot, then live output and resizes; the owner sees who watches', async (t) => {
    const { url, owner, bridge } = await ownerSession(t);
    const shared = await share(owner, { snapshot: 'SNAPSHOT-\x1b[1mMARK\x1b[0m' });
    assert.equal(shared.mode, 'view');
    assert.match(shared.token, /^0\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.ok(Date.parse(shared.expiresAt) > Date.now() + 50 * 60_000, 'an hour by default');
    const viewer = await view(url, shared.token);
    const viewing = viewer.controls().find(isType('viewing')) as { username: string; target: string; cols: number; rows: number };
    assert.equal(viewing.username, 'alice');
    assert.deepEqual([viewing.cols, viewing.rows], [100, 30]);
    await viewer.waitForOutput('SNAPSHOT-');
    assert.ok(viewer.output().includes('MARK'));
    owner.sendBinary(Buffer.from('echo live-one\r'));
    await viewer.waitForOutput('live-one');
    owner.sendJson({ type: 'resize', cols: 120, rows: 40 });
    await viewer.waitForControl((m) => isType('resize')(m) && (m as { cols: number }).cols === 120);
    await until(() => lastViewers(owner)?.length === 1, 'the owner to be told about the viewer');
    assert.equal(bridge.app.manager.stats().viewers, 1);
    assert.equal(bridge.app.manager.stats().active, 2, 'a viewer takes a slot');
    assert.match(await bridge.app.metrics.registry.metrics(), /^webssh_bridge_viewers 1$/m);
    assert.equal(lastViewers(owner)?.[0]?.clientIp, '127.0.0.1');
    assert.equal(lastViewers(owner)?.[0]?.subject, 'anonymous');
    viewer.close(1000);
    await until(() => lastViewers(owner)?.length === 0, 'the owner to be told the viewer left');
    owner.close(1000);
  });

  void it('a joining viewer sees the seed screen and the output since; after a flood, the newest output', async (t) => {
    const { url, owner } = await ownerSession(t);
    const { token } = await share(owner, { snapshot: 'SEED-MARK\r\n' });
    owner.sendBinary(Buffer.from('echo between\r'));
    await owner.waitForOutput('between\r\n');
    const first = await view(url, token);
    await first.waitForOutput('between');
    assert.ok(first.output().includes('SEED-MARK'), 'the owner screen is the start');
    owner.sendBinary(Buffer.from('flood 400000\r'));
    await owner.waitForOutput(/\r\nfake\$ $/, 30_000);
    owner.sendBinary(Buffer.from('echo last-line\r'));
    await owner.waitForOutput('last-line\r\n');
    await first.waitForOutput('last-line');
    const second = await view(url, token);
    await second.waitForOutput('last-line');
    assert.ok(!second.output().includes('SEED-MARK'), 'the screen was rebuilt from the newest output');
    owner.close(1000);
  });

  void it('three viewers joining while output flows all end on the final screen of the owner', async (t) => {
    const { url, owner } = await ownerSession(t);
    const { token } = await share(owner);
    owner.sendBinary(Buffer.from('count 30000\r'));
    const viewers = await Promise.all([view(url, token), view(url, token), view(url, token)]);
    await owner.waitForOutput(/30000\r\nfake\$ $/, 30_000);
    for (const v of viewers) await v.waitForOutput(/30000\r\nfake\$ $/, 30_000);
    const expected = await screenOf(Buffer.from(owner.output(), 'utf8'), 100, 30);
    for (const [i, v] of viewers.entries()) assert.equal(await screenOf(Buffer.from(v.output(), 'utf8'), 100, 30), expected, `viewer ${i}`);
    owner.close(1000);
  });

  void it('at most 16 live links per session; the session goes on', async (t) => {
    const { owner } = await ownerSession(t);
    for (let i = 0; i < 16; i++) await share(owner);
    owner.sendJson({ type: 'share' });
    const refused = (await owner.waitForControl(isType('share-refused'))) as { code: string };
    assert.equal(refused.code, 'SHARE_LINKS_FULL');
    owner.sendJson({ type: 'share-revoke' });
    await share(owner);
    owner.close(1000);
  });

  void it('when the owner ends the session, viewers hear that it ended (4009 session ended)', async (t) => {
    const { url, owner } = await ownerSession(t);
    const viewer = await view(url, (await share(owner)).token);
    owner.close(1000);
    const closed = await viewer.closed;
    assert.equal(closed.code, 4009);
    assert.match(closed.reason, /^SHARE_REVOKED.*session ended/);
  });

  void it('the link may come as a subprotocol entry instead of the query (what the page does)', async (t) => {
    const { url, owner } = await ownerSession(t);
    const { token } = await share(owner);
    const viewer = new TestWs(new WebSocket(url, [V1, `webssh-bridge.share.${token}`]));
    await viewer.waitForControl(isType('viewing'));
    assert.equal(viewer.ws.protocol, V1, 'the bridge selects v1, never the token entry');
    owner.sendBinary(Buffer.from('echo via-protocol\r'));
    await viewer.waitForOutput('via-protocol');
    const forged = new TestWs(new WebSocket(url, [V1, 'webssh-bridge.share.0.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']));
    assert.equal((await forged.closed).code, 4009);
    owner.close(1000);
  });

  void it('a viewer cannot type: its input never reaches the shell; ping is answered', async (t) => {
    const { ssh, url, owner } = await ownerSession(t);
    const viewer = await view(url, (await share(owner)).token);
    viewer.sendBinary(Buffer.from('echo viewer-typed\r'));
    viewer.sendJson({ type: 'resize', cols: 10, rows: 10 });
    viewer.sendJson({ type: 'ping', payload: 7 });
    await viewer.waitForControl((m) => isType('pong')(m) && (m as { payload: number }).payload === 7);
    owner.sendBinary(Buffer.from('echo owner-typed\r'));
    await viewer.waitForOutput('owner-typed');
    assert.ok(!ssh.events.input().toString('latin1').includes('viewer-typed'), 'viewer input was forwarded');
    assert.ok(!ssh.events.resizes.some((r) => r.cols === 10), 'viewer resize was forwarded');
    owner.close(1000);
  });

  void it('revoke cuts the viewers of that link (4009) and the link stops working; other links live on', async (t) => {
    const { url, owner } = await ownerSession(t);
    const a = await share(owner);
    const b = await share(owner);
    const va = await view(url, a.token);
    const vb = await view(url, b.token);
    owner.sendJson({ type: 'share-revoke', linkId: a.linkId });
    const closed = await va.closed;
    assert.equal(closed.code, 4009);
    assert.match(closed.reason, /^SHARE_REVOKED/);
    const again = await openWs(`${url}?share=${a.token}`, { protocol: V1 });
    assert.equal((await again.closed).code, 4009);
    owner.sendBinary(Buffer.from('echo after-revoke\r'));
    await vb.waitForOutput('after-revoke');
    owner.sendJson({ type: 'share-revoke' }); // all links
    assert.equal((await vb.closed).code, 4009);
    owner.sendBinary(Buffer.from('echo owner-unaffected\r'));
    await owner.waitForOutput('owner-unaffected');
    owner.close(1000);
  });

  void it('a link expires: its viewers are cut and it cannot be used again', async (t) => {
    const { url, owner } = await ownerSession(t);
    const shared = await share(owner, { ttlMs: 400 });
    const viewer = await view(url, shared.token);
    const closed = await viewer.closed;
    assert.equal(closed.code, 4009);
    assert.match(closed.reason, /expired/);
    const late = await openWs(`${url}?share=${shared.token}`, { protocol: V1 });
    assert.equal((await late.closed).code, 4009);
    owner.close(1000);
  });

  void it('a tampered, foreign or junk link is refused; a seed client gets HTTP 404', async (t) => {
    const { url, owner } = await ownerSession(t);
    const { token } = await share(owner);
    const [o, payload, sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ v: 1, s: 'x', l: 'y', e: Date.now() + 1e6, m: 'view' })).toString('base64url');
    for (const bad of [`${o}.${forged}.${sig}`, `${o}.${payload}.${'A'.repeat(43)}`, 'junk', `7.${payload}.${sig}`]) {
      const ws = await openWs(`${url}?share=${encodeURIComponent(bad)}`, { protocol: V1 });
      const closed = await ws.closed;
      assert.equal(closed.code, 4009, bad);
      assert.match(closed.reason, /^SHARE_INVALID/);
    }
    const seed = await expectHttpRejection(`${url}?share=${token}`);
    assert.equal(seed.status, 404);
    owner.close(1000);
  });

  void it('viewers count against the limits and the per-session viewer cap', async (t) => {
    const { url, owner } = await ownerSession(t, ['--share-max-viewers', '1', '--conn-max-per-host', '2']);
    const { token } = await share(owner);
    const first = await view(url, token);
    const second = await openWs(`${url}?share=${token}`, { protocol: V1, localAddress: '127.0.0.2' });
    const full = await second.closed;
    assert.equal(full.code, 1013);
    assert.match(full.reason, /^SHARE_FULL/);
    first.close(1000);
    await first.closed;
    await until(() => lastViewers(owner)?.length === 0, 'the viewer to leave');
    // Owner and one viewer from 127.0.0.1 fill conn-max-per-host 2; a third connection is refused.
    await view(url, token);
    const third = await openWs(url, { protocol: V1 });
    const limited = await third.closed;
    assert.equal(limited.code, 1013);
    assert.match(limited.reason, /^LIMIT_PER_IP/);
    owner.close(1000);
  });

  void it('a viewer that stops reading is dropped (4010); the owner gets every byte', async (t) => {
    const { url, owner, bridge } = await ownerSession(t);
    const viewer = await view(url, (await share(owner)).token);
    viewer.ws.pause(); // read nothing: the bridge's buffer for it grows
    owner.sendBinary(Buffer.from('flood 16000000\r'));
    await owner.waitForOutput(/\r\nfake\$ $/, 120_000);
    const out = Buffer.from(owner.output(), 'latin1');
    assert.ok(out.length > 16_000_000, `owner got ${out.length} bytes`);
    viewer.ws.resume();
    const closed = await viewer.closed;
    // The bridge sends 4010 and cuts the socket at once: a viewer that reads nothing may only see 1006.
    assert.ok(closed.code === 4010 || closed.code === 1006, `viewer closed ${closed.code}`);
    await until(() => lastViewers(owner)?.length === 0, 'the owner to be told the slow viewer is gone');
    assert.ok(bridge.logs().some((l) => l.event === 'viewer_left' && l.code === 'VIEWER_TOO_SLOW'), 'dropped as too slow');
    owner.close(1000);
  });

  void it('when the shell exits, viewers get the exit and a normal close', async (t) => {
    const { url, owner } = await ownerSession(t);
    const viewer = await view(url, (await share(owner)).token);
    owner.sendBinary(Buffer.from('exit 3\r'));
    const closed = await viewer.closed;
    assert.equal(closed.code, 1000);
    assert.deepEqual(viewer.controls().find(isType('exit')), { type: 'exit', status: 3, signal: null });
  });

  void it('a resumed owner hears who watches now (viewers may have left while it was away)', async (t) => {
    const { ssh, bridge, url } = await setupFake(t);
    const owner = await openWs(url, { protocol: V1 });
    owner.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, resume: true });
    const ready = (await owner.waitForControl(isType('ready'))) as { resume: { token: string } };
    registerSecret(ready.resume.token);
    await owner.waitForOutput(FAKE_PROMPT);
    const viewer = await view(url, (await share(owner)).token);
    await until(() => lastViewers(owner)?.length === 1, 'the viewer to be listed');
    owner.terminate();
    await until(() => bridge.app.manager.sessionStats().some((x) => x.state === 'DETACHED'), 'the owner to detach');
    viewer.close(1000);
    await viewer.closed;
    const again = await openWs(`${url}?resume=${ready.resume.token}&position=${Buffer.byteLength(owner.output())}`, { protocol: V1 });
    await again.waitForControl(isType('resumed'));
    registerSecret((again.controls().find(isType('resumed')) as { resume: { token: string } }).resume.token);
    await again.waitForControl((m) => isType('viewers')(m) && (m as Viewers).viewers.length === 0);
    again.close(1000);
  });

  void it('with share-ttl 0 a share is refused and the session goes on', async (t) => {
    const { owner } = await ownerSession(t, ['--share-ttl', '0']);
    owner.sendJson({ type: 'share' });
    const refused = (await owner.waitForControl(isType('share-refused'))) as { code: string };
    assert.equal(refused.code, 'SHARE_DISABLED');
    owner.sendBinary(Buffer.from('echo goes-on\r'));
    await owner.waitForOutput('goes-on');
    owner.close(1000);
  });
});
