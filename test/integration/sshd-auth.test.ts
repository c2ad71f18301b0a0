/**
 * Authentication methods against a real OpenSSH sshd: publickey with a key from ssh-keygen in an
 * AuthorizedKeysFile (plain and encrypted), and keyboard-interactive through PAM (`UsePAM yes`,
 * `KbdInteractiveAuthentication yes`), whose "Password:" prompt reaches the client as a `prompt`.
 * Fails (never skips) under CI=true when sshd is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { requireOrSkip, sshdAvailable } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const PASSPHRASE = registerSecret('sshd-Key-phrase-3');

interface Ctl { type?: string; [k: string]: unknown }
const ctl = (m: unknown): Ctl => m as Ctl;
const isType = (type: string) => (m: unknown): boolean => ctl(m).type === type;

void describe('authentication methods against a real OpenSSH sshd', () => {
  let dir = '';
  let key = '';
  let sshd: SshdHandle | undefined;
  let bridge: BridgeHandle | undefined;

  before(async () => {
    if (!sshdAvailable()) return;
    dir = mkdtempSync(join(tmpdir(), 'uwsb-sshd-auth-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'uwsb-client', '-f', join(dir, 'id')], { stdio: 'pipe' });
    key = readFileSync(join(dir, 'id'), 'utf8');
    registerSecret(key);
    for (const line of key.split('\n')) if (!line.startsWith('-----')) registerSecret(line);
    sshd = await startSshd({ authorizedKey: readFileSync(join(dir, 'id.pub'), 'utf8'), pam: true });
    bridge = await startBridge(['--host-key-policy', 'accept-new-insecure']);
  });
  after(async () => {
    await bridge?.close();
    await sshd?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const ready = (t: TestContext): { sshd: SshdHandle; url: string } | undefined => {
    if (!requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return undefined;
    assert.ok(sshd && bridge, 'before() started sshd and the bridge');
    return { sshd, url: `${bridge.wsBase}/ws/127.0.0.1/${sshd.port}` };
  };

  async function provesShell(ws: TestWs): Promise<void> {
    await ws.waitForControl(isType('ready'), 20_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    ws.sendBinary(Buffer.from('echo "auth-$((40+2))"\r'));
    await ws.waitForOutput('auth-42', 15_000);
    ws.close();
    await ws.closed;
  }

  void it('publickey with an encrypted key from ssh-keygen and its passphrase logs in', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(env.url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: env.sshd.username, method: 'publickey', privateKey: key, passphrase: PASSPHRASE });
    await provesShell(ws);
    assert.match(env.sshd.log(), /Accepted publickey for uwsbtest/);
  });

  void it('keyboard-interactive through PAM: the "Password:" prompt is asked and answered', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(env.url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: env.sshd.username, method: 'keyboard-interactive' });
    const prompt = ctl(await ws.waitForControl(isType('prompt'), 20_000));
    const prompts = prompt.prompts as Array<{ prompt: string; echo: boolean }>;
    assert.equal(prompts.length, 1, JSON.stringify(prompt));
    assert.match(prompts[0]?.prompt ?? '', /password/i);
    assert.equal(prompts[0]?.echo, false);
    ws.sendJson({ type: 'prompt-reply', responses: [env.sshd.password] });
    await provesShell(ws);
    assert.match(env.sshd.log(), /Accepted keyboard-interactive\/pam for uwsbtest/);
  });

  void it('keyboard-interactive through PAM with a wrong password closes 4001 SSH_AUTH_FAILED', async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(env.url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: env.sshd.username, method: 'keyboard-interactive' });
    await ws.waitForControl(isType('prompt'), 20_000);
    ws.sendJson({ type: 'prompt-reply', responses: ['definitely-Wrong-pw-9'] });
    // PAM may ask again after a failure; answer every further round wrongly too.
    let answered = 1;
    const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
      const timer = setInterval(() => {
        const n = ws.controls().filter(isType('prompt')).length;
        if (n > answered) {
          answered = n;
          ws.sendJson({ type: 'prompt-reply', responses: ['definitely-Wrong-pw-9'] });
        }
      }, 50);
      void ws.closed.then((c) => {
        clearInterval(timer);
        resolve(c);
      });
    });
    assert.equal(closed.code, 4001, closed.reason);
    assert.match(closed.reason, /^SSH_AUTH_FAILED: /);
  });
});
