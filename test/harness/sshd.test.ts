import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, Client as SshClient } from 'ssh2';
import { connectClient, within } from '../helpers/ssh-client.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { startSshd, TEST_PROMPT } from '../helpers/sshd.js';
import type { SshdHandle } from '../helpers/sshd.js';

const connect = (cfg: ConnectConfig): Promise<SshClient> => connectClient(cfg, 10_000);

/** Open a pty shell and return a reader whose wait() resolves when output matches. */
async function shell(c: SshClient): Promise<{ ch: ClientChannel; out: () => string; wait: (re: RegExp) => Promise<string> }> {
  const ch = await within(new Promise<ClientChannel>((resolve, reject) => {
    c.shell({ term: 'xterm', cols: 80, rows: 24 }, (err, s) => (err ? reject(err) : resolve(s)));
  }), 10_000, 'open shell');
  let out = '';
  ch.on('data', (d: Buffer) => { out += d.toString('utf8'); });
  const wait = async (re: RegExp): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (let m = re.exec(out); ; m = re.exec(out)) {
      if (m) return m[0];
      if (Date.now() > deadline) throw new Error(`no ${String(re)} in shell output:\n${out.slice(-2048)}`);
      await sleep(20);
    }
  };
  return { ch, out: () => out, wait };
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
const isRoot = process.getuid?.() === 0;

void test('real OpenSSH sshd harness', async (t) => {
  if (!requireOrSkip(t, 'OpenSSH sshd as root', sshdAvailable() && isRoot, 'needs /usr/sbin/sshd (apt-get install openssh-server) and root')) return;
  const sshd: SshdHandle = await startSshd({ banner: 'uwsb test banner\n' });
  t.after(() => sshd.stop());
  const creds = { host: sshd.host, port: sshd.port, username: sshd.username, password: sshd.password };

  await t.test('password login, prompt, host key fingerprint, echo hi', async () => {
    let seenFp = '';
    const c = await connect({
      ...creds,
      hostVerifier: (key: Buffer) => { seenFp = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`; return true; },
    });
    try {
      assert.equal(seenFp, sshd.hostKeyFingerprint);
      const sh = await shell(c);
      await sh.wait(new RegExp(TEST_PROMPT.replace('$', '\\$')));
      sh.ch.write('echo h""i\n');
      await sh.wait(/\r\nhi\r\n/);
      assert.match(sshd.hostKeyFingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
    } finally { c.end(); }
  });

  await t.test('banner is sent before auth', async () => {
    const c = new ssh2.Client();
    const banner = await within(new Promise<string>((resolve, reject) => {
      c.once('banner', resolve).once('error', reject).connect({ ...creds, readyTimeout: 10_000 });
    }), 15_000, 'banner');
    c.end();
    assert.equal(banner, 'uwsb test banner\n');
  });

  await t.test('wrong password is refused', async () => {
    await assert.rejects(connect({ ...creds, password: 'nope' }), (err: Error & { level?: string }) => {
      assert.equal(err.level, 'client-authentication');
      return true;
    });
  });

  await t.test('closing the client ends the remote shell', async () => {
    const c = await connect(creds);
    const sh = await shell(c);
    await sh.wait(/uwsb\$ /);
    assert.ok((await sshd.userProcesses()).length > 0, 'shell should show up as test-user processes');
    c.end();
    const deadline = Date.now() + 10_000;
    while ((await sshd.userProcesses()).length > 0) {
      if (Date.now() > deadline) assert.fail(`test-user processes left: ${(await sshd.userProcesses()).join(',')}`);
      await sleep(50);
    }
  });

  await t.test('stop() leaves no process of the test user behind', async () => {
    const c = await connect(creds);
    c.on('error', () => { /* sshd is killed under us */ });
    const sh = await shell(c);
    await sh.wait(/uwsb\$ /);
    sh.ch.write('sleep 300 & echo PIDS=$$,$!\n');
    const [, shellPid, sleepPid] = /PIDS=(\d+),(\d+)/.exec(await sh.wait(/PIDS=\d+,\d+/)) ?? [];
    const pids = [Number(shellPid), Number(sleepPid)];
    const before = await sshd.userProcesses();
    for (const p of pids) assert.ok(before.includes(p), `pid ${p} should be listed in ${before.join(',')}`);
    await within(sshd.stop(), 10_000, 'sshd.stop()');
    await within(sshd.stop(), 1_000, 'second stop() is a no-op');
    assert.deepEqual(await sshd.userProcesses(), []);
    for (const p of pids) assert.equal(alive(p), false, `pid ${p} survived stop()`);
    c.end();
  });
});
