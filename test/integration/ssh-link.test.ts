/**
 * SshLink: one login, several channels. Against a real OpenSSH sshd: the host key question under
 * tofu, a shell, an SFTP channel and a direct-tcpip forward on the same connection, and a polite
 * close that reports no loss. Against the in-process ssh2 server: a server without SFTP or
 * forwarding gives the catalogue codes, and a connection that drops after the login is reported
 * once as SSH_CONNECTION_LOST. sshd missing: fails under CI=true, skips loudly elsewhere.
 */
import { describe, it, after, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/types.js';
import { BridgeError, isBridgeError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { HostKeyStore } from '../../src/ssh/host-keys.js';
import { SshLink, type SshLinkOptions } from '../../src/ssh/link.js';
import type { PresentedHostKey } from '../../src/ssh/connect.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';
import { until } from '../helpers/until.js';

const quiet = createLogger(false, new Writable({ write: (_c, _e, cb) => cb() }));

function config(flags: string[]): Config {
  const r = loadConfig(flags, {});
  if (r.kind !== 'config') throw new Error('config');
  return r.config;
}

interface Opened { link: SshLink; asked: PresentedHostKey[]; lost: BridgeError[] }

async function open(server: { port: number; username: string; password: string }, policy: string, answer = true): Promise<Opened> {
  const asked: PresentedHostKey[] = [];
  const lost: BridgeError[] = [];
  const cfg = config(['--host-key-policy', policy]);
  const opts: SshLinkOptions = {
    target: { host: '127.0.0.1', port: server.port, address: '127.0.0.1', family: 4, key: `127.0.0.1:${server.port}` },
    username: server.username, takeAuth: () => ({ method: 'password', password: server.password }),
    config: cfg, hostKeys: HostKeyStore.load({ knownHosts: null, systemKnownHosts: null }), logger: quiet,
    signal: new AbortController().signal, onLost: (err) => lost.push(err),
    questions: {
      canAsk: true,
      askHostKey: (k) => { asked.push(k); return Promise.resolve(answer); },
      askPrompt: () => Promise.reject(new BridgeError('PROTOCOL_ERROR', 'no prompts here')),
      onBanner: () => undefined,
    },
  };
  return { link: await SshLink.open(opts), asked, lost };
}

/** A loopback TCP echo server: what a forward reaches. */
async function echoServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.pipe(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

void describe('SshLink against a real OpenSSH sshd', () => {
  let sshd: SshdHandle | undefined;
  before(async () => {
    if (sshdAvailable()) sshd = await startSshd();
  });
  after(async () => {
    await sshd?.stop();
  });
  const ready = (t: TestContext): boolean => requireOrSkip(t, 'OpenSSH sshd', sshd !== undefined, 'apt-get install openssh-server');

  void it('asks about the unknown key under tofu, then opens a shell, SFTP and a forward on one connection', async (t) => {
    if (!ready(t) || sshd === undefined) return;
    const { link, asked, lost } = await open(sshd, 'tofu');
    assert.equal(asked.length, 1, 'one host key question');
    assert.equal(asked[0]?.fingerprint, sshd.hostKeyFingerprint);
    assert.equal(link.hostKey, sshd.hostKeyFingerprint);

    const shell = await link.openShell({ term: 'xterm-256color', cols: 80, rows: 24 });
    let out = '';
    shell.on('data', (d: Buffer) => { out += d.toString(); });
    await until(() => out.includes(TEST_PROMPT), 'the shell prompt', 15_000);
    shell.write('echo "link-""ok"\n');
    await until(() => out.includes('link-ok'), 'the echo', 15_000);

    const sftp = await link.openSftp();
    const home = await new Promise<string>((resolve, reject) => sftp.realpath('.', (err, p) => (err ? reject(err) : resolve(p))));
    assert.match(home, /^\//);
    const names = await new Promise<string[]>((resolve, reject) => sftp.readdir(home, (err, list) => (err ? reject(err) : resolve(list.map((e) => e.filename)))));
    assert.ok(names.includes('.bashrc'), `the test account's home holds .bashrc (got ${names.join(', ')})`);

    const echo = await echoServer();
    t.after(() => echo.server.close());
    const fwd = await link.forwardOut('127.0.0.1', echo.port);
    const back = new Promise<string>((resolve) => fwd.once('data', (d: Buffer) => resolve(d.toString())));
    fwd.write('through the target');
    assert.equal(await back, 'through the target');
    fwd.close();

    // A port nobody listens on: sshd cannot connect, the forward is refused.
    const closed = await echoServer();
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    await assert.rejects(link.forwardOut('127.0.0.1', closed.port), (e: unknown) => isBridgeError(e) && e.code === 'TARGET_UNREACHABLE');

    sftp.end();
    shell.close();
    link.close();
    link.close();
    link.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(lost, [], 'a closed link reports no loss');
  });

  void it('a rejected key ends the login with HOST_KEY_REJECTED', async (t) => {
    if (!ready(t) || sshd === undefined) return;
    await assert.rejects(open(sshd, 'tofu', false), (e: unknown) => isBridgeError(e) && e.code === 'HOST_KEY_REJECTED');
  });
});

void describe('SshLink against the in-process ssh2 server', () => {
  let fake: FakeSshHandle;
  before(async () => {
    fake = await startFakeSsh();
  });
  after(async () => {
    await fake.close();
  });

  void it('a server without SFTP or forwarding answers CHANNEL_FAILED and TARGET_UNREACHABLE; the link stays up', async () => {
    const { link, asked, lost } = await open(fake, 'accept-new-insecure');
    assert.equal(asked.length, 0, 'accept-new-insecure asks nothing');
    await assert.rejects(link.openSftp(), (e: unknown) => isBridgeError(e) && e.code === 'CHANNEL_FAILED');
    await assert.rejects(link.forwardOut('127.0.0.1', 9), (e: unknown) => isBridgeError(e) && e.code === 'TARGET_UNREACHABLE');
    const shell = await link.openShell({ term: 'xterm', cols: 80, rows: 24 });
    shell.close();
    link.destroy();
    assert.deepEqual(lost, []);
  });

  void it('held work that fails lets the link end and is no unhandled rejection of the link\'s own', async () => {
    const { link, lost } = await open(fake, 'accept-new-insecure');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const work = Promise.reject(new Error('sftp end failed'));
      work.catch(() => undefined); // its owner handles it
      link.hold(work);
      link.close();
      await new Promise((resolve) => setTimeout(resolve, 50)); // past the microtasks and one macrotask
      assert.deepEqual(unhandled, []);
    } finally {
      process.removeListener('unhandledRejection', onUnhandled);
      link.destroy();
    }
    assert.deepEqual(lost, []);
  });

  void it('a connection that drops after the login is reported once as SSH_CONNECTION_LOST', async () => {
    const { link, lost } = await open(fake, 'accept-new-insecure');
    await fake.close();
    await until(() => lost.length > 0, 'the loss', 5_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(lost.length, 1);
    assert.equal(lost[0]?.code, 'SSH_CONNECTION_LOST');
    link.destroy();
  });
});
