import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, Client as SshClient } from 'ssh2';
import { connectClient, within } from '../helpers/ssh-client.js';
import { startFakeSsh, startTarpit, FAKE_PROMPT } from '../helpers/ssh-server.js';

const connect = (cfg: ConnectConfig): Promise<SshClient> => connectClient(cfg, 5_000);

interface Sh { ch: ClientChannel; out: () => Buffer; err: () => string; wait: (s: string) => Promise<void> }

async function shell(c: SshClient, win = { term: 'xterm-256color', cols: 100, rows: 30 }): Promise<Sh> {
  const ch = await within(new Promise<ClientChannel>((resolve, reject) => {
    c.shell(win, (e, s) => (e ? reject(e) : resolve(s)));
  }), 5_000, 'open shell');
  const out: Buffer[] = [];
  let err = '';
  ch.on('data', (d: Buffer) => out.push(d));
  ch.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const all = (): Buffer => Buffer.concat(out);
  const wait = async (s: string): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (!all().includes(s)) {
      if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(s)} in output:\n${all().toString().slice(-2048)}`);
      await sleep(5);
    }
  };
  return { ch, out: all, err: () => err, wait };
}

const exitOf = (ch: ClientChannel): Promise<unknown[]> =>
  within(new Promise<unknown[]>((resolve) => ch.once('exit', (...a: unknown[]) => resolve(a))), 5_000, 'channel exit');

void test('fake ssh server', async (t) => {
  const srv = await startFakeSsh({ banner: 'hello from fake\r\n' });
  t.after(() => srv.close());
  const creds = { host: srv.host, port: srv.port, username: srv.username, password: srv.password };

  await t.test('login, banner, pty recorded, size, resize, stderr, paste', async () => {
    const c = new ssh2.Client();
    let banner = '';
    c.on('banner', (m) => { banner = m; });
    await within(new Promise<void>((resolve, reject) => { c.once('ready', resolve).once('error', reject).connect(creds); }), 5_000, 'connect');
    try {
      assert.equal(banner, 'hello from fake\r\n');
      const sh = await shell(c);
      await sh.wait(FAKE_PROMPT);
      assert.deepEqual(srv.events.ptys.at(-1), { term: 'xterm-256color', cols: 100, rows: 30 });
      sh.ch.write('size\r');
      await sh.wait('size\r\n30 100\r\n');
      sh.ch.setWindow(40, 120, 0, 0);
      await srv.waitFor(() => srv.events.resizes.length === 1);
      assert.deepEqual(srv.events.resizes[0], { cols: 120, rows: 40 });
      sh.ch.write('size\n');
      await sh.wait('40 120\r\n');
      sh.ch.write('stderr oops here\r\n');
      await srv.waitFor(() => sh.err().length > 0);
      await sh.wait(`here\r\n${FAKE_PROMPT}`);
      assert.equal(sh.err(), 'oops here\r\n');
      const paste = Buffer.alloc(5000, 'x');
      const before = srv.events.inputBytes;
      sh.ch.write(paste);
      await srv.waitFor(() => srv.events.inputBytes === before + 5000);
      assert.ok(srv.events.input().subarray(-5000).equals(paste));
      await sh.wait('x'.repeat(5000));
    } finally { c.end(); }
  });

  await t.test('exit 3 gives exit code 3; killsig gives signal TERM', async () => {
    const c = await connect(creds);
    try {
      const a = await shell(c);
      const ae = exitOf(a.ch);
      a.ch.write('exit 3\n');
      assert.deepEqual((await ae).slice(0, 1), [3]);
      const b = await shell(c);
      const be = exitOf(b.ch);
      b.ch.write('killsig\n');
      assert.deepEqual((await be).slice(0, 2), [null, 'SIGTERM']);
    } finally { c.end(); }
  });

  await t.test('flood N delivers exactly N pattern bytes; count N prints 1..N', async () => {
    const c = await connect(creds);
    try {
      const sh = await shell(c);
      await sh.wait(FAKE_PROMPT);
      const n = 3 * 1024 * 1024 + 7;
      sh.ch.write(`flood ${n}\n`);
      const head = `${FAKE_PROMPT}flood ${n}\r\n`;
      const tailMark = `\r\n${FAKE_PROMPT}`;
      const deadline = Date.now() + 10_000;
      while (sh.out().length < head.length + n + tailMark.length) {
        if (Date.now() > deadline) assert.fail(`flood stalled at ${sh.out().length} bytes`);
        await sleep(10);
      }
      const body = sh.out().subarray(head.length, head.length + n);
      assert.equal(sh.out().subarray(0, head.length).toString(), head);
      assert.equal(body.subarray(0, 10).toString(), '0123456789');
      assert.ok(!body.includes('$'), 'flood body must be pure pattern');
      assert.equal(sh.out().subarray(head.length + n).toString(), tailMark);
      sh.ch.write('count 1500\n');
      await sh.wait(`\r\n1499\r\n1500\r\n${FAKE_PROMPT}`);
    } finally { c.end(); }
  });

  await t.test('wrong password refused and counted; openConnections drops on client end', async () => {
    const failures = srv.events.authFailures;
    await assert.rejects(connect({ ...creds, password: 'nope' }), /authentication methods failed/);
    assert.equal(srv.events.authFailures, failures + 1);
    await srv.waitFor(() => srv.events.openConnections === 0);
    const c = await connect(creds);
    assert.equal(srv.events.openConnections, 1);
    c.end();
    await srv.waitFor(() => srv.events.openConnections === 0);
  });
});

async function assertSilent(host: string, port: number): Promise<void> {
  const sock = tcpConnect(port, host);
  let got = 0;
  sock.on('data', (d) => { got += d.length; });
  await within(new Promise<void>((resolve, reject) => sock.once('connect', resolve).once('error', reject)), 2_000, 'tcp connect');
  await sleep(300);
  sock.destroy();
  assert.equal(got, 0, 'tarpit must never send a byte');
}

void test('tarpit accepts TCP but never speaks', async () => {
  const tp = await startTarpit();
  await assertSilent(tp.host, tp.port);
  assert.equal(tp.connections(), 1);
  const hang = await startFakeSsh({ hangAfterTcp: true });
  await assertSilent(hang.host, hang.port);
  assert.equal(hang.events.connections, 1);
  // a held-open connection must not block close()
  const held = tcpConnect(tp.port, tp.host);
  held.on('error', () => { /* destroyed by close() */ });
  await within(new Promise((r) => held.once('connect', r)), 2_000, 'tcp connect');
  await within(Promise.all([tp.close(), hang.close()]), 2_000, 'close()');
});
