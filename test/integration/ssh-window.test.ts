/**
 * `--ssh-window` seen from the SSH server (issue 16, src/ssh/channel-window.ts): the bridge's
 * client opens the terminal's channel with that window, and while the WebSocket client reads
 * nothing the server can push no more than what the bridge may hold (the pump's HIGH_WATER and the
 * window; the channel's read mark is 0) before its window is 0 and stays 0; once the client reads
 * again, all the output arrives, in order. SFTP and `direct-tcpip` channels get ssh2's 2 MiB back.
 *
 * The client truly stops reading: the WebSocket goes through a loopback proxy whose socket to the
 * bridge is paused, so TCP pushes back on the bridge. What the kernel holds on that connection
 * (the bridge's send queue, the proxy's receive queue: a few MiB on loopback) has left the bridge
 * and is not counted against it; /proc/net/tcp tells it.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server as NetServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import ssh2 from 'ssh2';
import type { ServerChannel } from 'ssh2';
import WebSocket from 'ws';
import { CHANNEL_READ_MARK, HIGH_WATER } from '../../src/session/pump.js';
import { loadConfig } from '../../src/config/loader.js';
import { BridgeError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { HostKeyStore } from '../../src/ssh/host-keys.js';
import { SSH2_WINDOW } from '../../src/ssh/channel-window.js';
import { SshLink } from '../../src/ssh/link.js';
import { startBridge } from '../helpers/bridge.js';
import { hostKey } from '../helpers/ssh-server.js';
import { until } from '../helpers/until.js';

const { Server } = ssh2;
const KiB = 1024;
const MiB = 1024 * KiB;
/**
 * What the pump may take past HIGH_WATER before it pauses (a chunk), an SSH packet in flight
 * when the channel is paused, WebSocket frame headers: three packets' worth (with a 64 KiB read
 * mark, 23-47 KiB over HIGH_WATER + window + mark was measured; with the mark at 0 it is under).
 */
const SLACK = 96 * KiB;
const FLOOD = 12 * MiB;

/**
 * Bytes the kernel holds on the established TCP connections that have `port` at one end (both
 * ends' queues): /proc/net/tcp's tx_queue (sent, not yet acknowledged) and rx_queue (received,
 * not yet read), as `ss` shows them in Send-Q and Recv-Q.
 */
function kernelQueued(port: number): number {
  let sum = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, remote, state, queues] = line.trim().split(/\s+/);
      if (local === undefined || remote === undefined || state !== '01' || queues === undefined) continue;
      const portOf = (addr: string): number => parseInt(addr.slice(addr.lastIndexOf(':') + 1), 16);
      if (portOf(local) !== port && portOf(remote) !== port) continue;
      const [tx, rx] = queues.split(':');
      sum += parseInt(tx ?? '0', 16) + parseInt(rx ?? '0', 16);
    }
  }
  return sum;
}

/** The byte at output position `i`: a pattern whose period (251) no power of two divides. */
const patternAt = (i: number): number => i % 251;

function pattern(from: number, length: number): Buffer {
  const b = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) b[i] = patternAt(from + i);
  return b;
}

interface Outgoing {
  window: number;
}

/** An SSH server whose shell sends output only when told, never more than the window allows. */
interface WindowServer {
  readonly port: number;
  /** The window the client granted when it opened each shell channel. */
  readonly initialWindows: number[];
  /** The first shell's channel, once it is open. */
  shell(): Promise<{ ch: ServerChannel; out: Outgoing }>;
  /** What the client grants the SFTP channels and `direct-tcpip` channels it opened, as the server sees it now. */
  readonly sftpWindows: Outgoing[];
  readonly forwardWindows: Outgoing[];
  close(): Promise<void>;
}

async function startWindowServer(t: TestContext): Promise<WindowServer> {
  const initialWindows: number[] = [];
  const sftpWindows: Outgoing[] = [];
  const forwardWindows: Outgoing[] = [];
  let gotShell: (s: { ch: ServerChannel; out: Outgoing }) => void = () => undefined;
  const shell = new Promise<{ ch: ServerChannel; out: Outgoing }>((resolve) => { gotShell = resolve; });
  const ssh = new Server({ hostKeys: [hostKey()] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.username === 'alice' && ctx.password === 'wonderland') ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('tcpip', (accept) => {
      const ch = accept();
      ch.on('error', () => undefined);
      forwardWindows.push((ch as unknown as { outgoing: Outgoing }).outgoing);
    });
    client.on('session', (accept) => {
      const session = accept();
      session.on('sftp', (ok) => {
        const sftp = ok();
        sftp.on('error', () => undefined);
        sftpWindows.push((sftp as unknown as { outgoing: Outgoing }).outgoing);
      });
      session.on('pty', (ok) => ok?.());
      session.on('env', (ok) => ok?.());
      session.on('window-change', (ok) => ok?.());
      session.on('shell', (ok) => {
        const ch = ok();
        ch.on('error', () => undefined);
        const out = (ch as unknown as { outgoing: Outgoing }).outgoing;
        initialWindows.push(out.window);
        gotShell({ ch, out });
      });
    });
  });
  const sockets = new Set<Socket>();
  const tcp: NetServer = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    ssh.injectSocket(s);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  const address = tcp.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  const close = (): Promise<void> => new Promise((resolve) => {
    tcp.close(() => resolve());
    for (const s of sockets) s.destroy();
  });
  t.after(close);
  return { port: address.port, initialWindows, sftpWindows, forwardWindows, shell: () => shell, close };
}

/** A loopback proxy for one connection whose side towards the bridge can stop reading. */
interface ReaderProxy {
  readonly port: number;
  /** Bytes read from the bridge so far. */
  fromBridge(): number;
  /** The local port of the proxy's socket to the bridge (to find that connection's queues). */
  upstreamPort(): number;
  stopReading(): void;
  read(): void;
}

async function startReaderProxy(t: TestContext, bridgePort: number): Promise<ReaderProxy> {
  let upstream: Socket | undefined;
  let client: Socket | undefined;
  let fromBridge = 0;
  const server = createServer((c) => {
    client = c;
    const up = connect(bridgePort, '127.0.0.1');
    upstream = up;
    c.on('error', () => undefined);
    up.on('error', () => undefined);
    up.on('data', (d: Buffer) => { fromBridge += d.length; });
    c.pipe(up);
    up.pipe(c);
    c.once('close', () => up.destroy());
    up.once('close', () => c.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('no address');
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    upstream?.destroy();
    client?.destroy();
  }));
  return {
    port: address.port,
    fromBridge: () => fromBridge,
    upstreamPort: () => upstream?.localPort ?? 0,
    // unpipe first: a pipe would resume the socket on the client's next 'drain'.
    stopReading: () => { upstream?.unpipe(client); upstream?.pause(); },
    read: () => { if (upstream !== undefined && client !== undefined) upstream.pipe(client); },
  };
}

/**
 * Flood `total` bytes of the pattern, writing only what the window allows (so every byte written
 * is on the wire at once); `pushed()` is what the server sent so far.
 */
function flood(ch: ServerChannel, out: Outgoing, total: number): { pushed: () => number; stop: () => void } {
  let pushed = 0;
  const timer = setInterval(() => {
    while (pushed < total && out.window > 0 && ch.writable) {
      const n = Math.min(out.window, 16 * KiB, total - pushed);
      ch.write(pattern(pushed, n));
      pushed += n;
    }
    if (pushed >= total) clearInterval(timer);
  }, 2);
  return { pushed: () => pushed, stop: () => clearInterval(timer) };
}

async function slowReader(t: TestContext, window: number, bridgeOpts: { flags?: string[]; env?: Record<string, string> }): Promise<void> {
  const ssh = await startWindowServer(t);
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--metrics-enabled', ...(bridgeOpts.flags ?? [])], bridgeOpts.env === undefined ? {} : { env: bridgeOpts.env });
  t.after(() => bridge.close());
  const proxy = await startReaderProxy(t, bridge.port);

  // Every output byte the client gets, checked against the pattern as it arrives.
  let received = 0;
  let mismatch: string | null = null;
  const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/ws/127.0.0.1/${ssh.port}`);
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) return;
    for (const byte of data) {
      if (mismatch === null && byte !== patternAt(received)) mismatch = `byte ${received} is ${byte}, expected ${patternAt(received)}`;
      received++;
    }
  });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  t.after(() => ws.terminate());
  ws.send(JSON.stringify({ username: 'alice', password: 'wonderland' }));
  const { ch, out } = await ssh.shell();
  assert.deepEqual(ssh.initialWindows, [window], 'the window the bridge granted when it opened the shell');

  proxy.stopReading();
  const f = flood(ch, out, FLOOD);
  t.after(() => f.stop());
  // Stalled: the window is used up and no more is granted for a while.
  let last = -1;
  let still = 0;
  await until(() => {
    if (out.window === 0 && f.pushed() === last) still++;
    else still = 0;
    last = f.pushed();
    return still >= 25; // 0.5 s
  }, 'the server\'s window to stay 0', 20_000, () => Promise.resolve(`pushed ${f.pushed()}, window ${out.window}`));
  const queued = kernelQueued(proxy.upstreamPort());
  const held = f.pushed() - proxy.fromBridge() - queued;
  const bound = HIGH_WATER + window + CHANNEL_READ_MARK + SLACK;
  t.diagnostic(`window ${window}: pushed ${f.pushed()}, read by the proxy ${proxy.fromBridge()}, in kernel queues ${queued}, held by the bridge ${held}, bound ${bound}`);
  assert.ok(f.pushed() < FLOOD, 'the server stalled before the end of the flood');
  assert.ok(held <= bound, `the bridge holds ${held} bytes, more than HIGH_WATER + window + slack = ${bound}`);
  assert.ok(held >= HIGH_WATER, `the bridge holds ${held} bytes: less than HIGH_WATER, so the pump never paused (is the measurement right?)`);
  // The bridge's own count (/stats `buffered`, the output_buffered_bytes gauge) says the same.
  const stats = await (await fetch(`http://127.0.0.1:${bridge.port}/stats`)).json() as { buffered: { bytes: number; max_session: number } };
  t.diagnostic(`the bridge's own count: ${JSON.stringify(stats.buffered)}`);
  assert.equal(stats.buffered.bytes, stats.buffered.max_session, 'one session');
  assert.ok(stats.buffered.bytes >= HIGH_WATER && stats.buffered.bytes <= bound, `the bridge counts ${stats.buffered.bytes} bytes held, outside [HIGH_WATER, ${bound}]`);
  assert.ok(Math.abs(stats.buffered.bytes - held) <= SLACK, `the bridge counts ${stats.buffered.bytes} bytes held, the server side sees ${held}`);

  proxy.read();
  await until(() => received >= FLOOD || mismatch !== null, 'the whole flood at the client', 60_000, () => Promise.resolve(`received ${received}, pushed ${f.pushed()}`));
  assert.equal(mismatch, null);
  assert.equal(received, FLOOD, 'all the output arrived, in order');
  assert.equal(f.pushed(), FLOOD);
  const after = await (await fetch(`http://127.0.0.1:${bridge.port}/stats`)).json() as { buffered: { bytes: number } };
  assert.equal(after.buffered.bytes, 0, 'nothing held once the client has read everything');
}

void test('default --ssh-window: the shell channel grants 256 KiB; a client that stops reading holds at most HIGH_WATER + window, then gets everything in order', { timeout: 120_000 }, async (t) => {
  await slowReader(t, 256 * KiB, {});
});

void test('UWSB_SSH_WINDOW=64KiB: the shell channel grants 64 KiB, and the bound shrinks with it', { timeout: 120_000 }, async (t) => {
  await slowReader(t, 64 * KiB, { env: { UWSB_SSH_WINDOW: '64KiB' } });
});

void test('SFTP and forwarded channels get ssh2\'s 2 MiB back: the server sees it granted once they open', { timeout: 60_000 }, async (t) => {
  const ssh = await startWindowServer(t);
  const loaded = loadConfig(['--host-key-policy', 'accept-new-insecure', '--ssh-window', '64KiB'], {});
  if (loaded.kind !== 'config') throw new Error('config');
  const link = await SshLink.open({
    target: { host: '127.0.0.1', port: ssh.port, address: '127.0.0.1', family: 4, key: `127.0.0.1:${ssh.port}` },
    username: 'alice', takeAuth: () => ({ method: 'password', password: 'wonderland' }),
    config: loaded.config, hostKeys: HostKeyStore.load({ knownHosts: null, systemKnownHosts: null }),
    logger: createLogger(false, new Writable({ write: (_c, _e, cb) => cb() })),
    signal: new AbortController().signal, onLost: () => undefined,
    questions: {
      canAsk: false,
      askHostKey: () => Promise.resolve(false),
      askPrompt: () => Promise.reject(new BridgeError('PROTOCOL_ERROR', 'no prompts here')),
      onBanner: () => undefined,
    },
  });
  t.after(() => link.destroy());
  await link.openShell({ term: 'xterm', cols: 80, rows: 24 });
  assert.deepEqual(ssh.initialWindows, [64 * KiB], 'the shell keeps --ssh-window');
  await link.openSftp();
  await link.forwardOut('127.0.0.1', 9);
  await until(() => ssh.sftpWindows[0]?.window === SSH2_WINDOW && ssh.forwardWindows[0]?.window === SSH2_WINDOW, 'both windows at 2 MiB', 10_000,
    () => Promise.resolve(`sftp ${ssh.sftpWindows[0]?.window}, forward ${ssh.forwardWindows[0]?.window}`));
});
