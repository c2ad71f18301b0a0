/**
 * SSH authentication methods through the bridge, against the in-process ssh2 server:
 * keyboard-interactive (any number of rounds and prompts, `prompt` / `prompt-reply`), publickey
 * with plain and encrypted keys made by ssh-keygen, and the distinct failure codes
 * (SSH_AUTH_FAILED, SSH_KEY_INVALID, SSH_KEY_PASSPHRASE, SSH_NO_AUTH_METHOD). Every secret is
 * registered, so each bridge's log scan proves none of them is ever logged.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setupFake } from '../helpers/fake-session.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, type FakeKiRound } from '../helpers/ssh-server.js';
import { openWs, type TestWs } from '../helpers/ws-client.js';

const V1 = 'webssh-bridge.v1';
const KI_PASSWORD = registerSecret('ki-Pass-word-31');
const OTP = registerSecret('493817');
const WRONG_OTP = registerSecret('000111');
const PASSPHRASE = registerSecret('uwsb-Key-Phrase-8');
const WRONG_PASSPHRASE = registerSecret('not-the-Phrase-8');

interface Ctl { type?: string; [k: string]: unknown }
const ctl = (m: unknown): Ctl => m as Ctl;
const isType = (type: string) => (m: unknown): boolean => ctl(m).type === type;

/** Two rounds with prompts (password, then code + device), after one empty round the bridge answers itself. */
const TWO_FACTOR: FakeKiRound[] = [
  { prompts: [], answers: [] },
  { name: 'Login', instructions: 'Step 1 of 2', prompts: [{ prompt: 'Password: ', echo: false }], answers: [KI_PASSWORD] },
  { name: 'Two-factor', instructions: 'Open your authenticator app.', prompts: [{ prompt: 'Verification code: ', echo: false }, { prompt: 'Device name: ', echo: true }], answers: [OTP, 'laptop'] },
];

/** Register a key's text and each of its base64 lines, so even a partial leak is caught. */
function registerKey(text: string): string {
  registerSecret(text);
  for (const line of text.split('\n')) if (!line.startsWith('-----')) registerSecret(line);
  return text;
}

void describe('SSH authentication methods through the bridge (fake server)', () => {
  let dir = '';
  let plainKey = '';
  let plainPub = '';
  let encKey = '';
  let encPub = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'uwsb-auth-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'plain', '-f', join(dir, 'plain')], { stdio: 'pipe' });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'enc', '-f', join(dir, 'enc')], { stdio: 'pipe' });
    plainKey = registerKey(readFileSync(join(dir, 'plain'), 'utf8'));
    plainPub = readFileSync(join(dir, 'plain.pub'), 'utf8').trim();
    encKey = registerKey(readFileSync(join(dir, 'enc'), 'utf8'));
    encPub = readFileSync(join(dir, 'enc.pub'), 'utf8').trim();
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  async function v1(url: string, auth: Record<string, unknown>): Promise<TestWs> {
    const ws = await openWs(url, { protocol: V1 });
    ws.sendJson({ type: 'auth', username: 'alice', ...auth });
    return ws;
  }

  /** The shell answers: the login really worked. */
  async function provesShell(ws: TestWs): Promise<void> {
    await ws.waitForControl(isType('ready'));
    await ws.waitForOutput(FAKE_PROMPT);
    ws.sendBinary(Buffer.from('size\r'));
    await ws.waitForOutput(/\d+ \d+\r\n/);
    ws.close();
    await ws.closed;
  }

  async function expectClose(ws: TestWs, close: number, code: string): Promise<void> {
    const closed = await ws.closed;
    assert.equal(closed.code, close, `close code; reason ${closed.reason}`);
    assert.match(closed.reason, new RegExp(`^${code}: `));
    if (close !== 1008 || code !== 'PROTOCOL_ERROR') assert.equal(ctl(ws.controls().at(-1)).code, code);
  }

  void it('keyboard-interactive: two rounds of prompts are asked and answered, an empty round is answered by the bridge', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['keyboard-interactive'], ki: TWO_FACTOR });
    const ws = await v1(url, { method: 'keyboard-interactive', cols: 100, rows: 30 });
    const first = ctl(await ws.waitForControl(isType('prompt')));
    assert.deepEqual(first, { type: 'prompt', name: 'Login', instructions: 'Step 1 of 2', prompts: [{ prompt: 'Password: ', echo: false }] });
    ws.sendJson({ type: 'prompt-reply', responses: [KI_PASSWORD] });
    await ws.waitForControl((m) => isType('prompt')(m) && ctl(m).name === 'Two-factor');
    const second = ws.controls().filter(isType('prompt'))[1];
    assert.deepEqual(second, {
      type: 'prompt', name: 'Two-factor', instructions: 'Open your authenticator app.',
      prompts: [{ prompt: 'Verification code: ', echo: false }, { prompt: 'Device name: ', echo: true }],
    });
    ws.sendJson({ type: 'prompt-reply', responses: [OTP, 'laptop'] });
    await provesShell(ws);
    assert.equal(ssh.events.kiRounds, 3, 'the empty round happened too');
    assert.deepEqual(ssh.events.logins, ['keyboard-interactive']);
    assert.deepEqual(ssh.events.ptys.at(-1), { term: 'xterm-256color', cols: 100, rows: 30 });
    assert.deepEqual(ws.controls().map((m) => ctl(m).type).slice(0, 3), ['prompt', 'prompt', 'ready'], 'only rounds with prompts reach the client, all before ready');
  });

  void it('keyboard-interactive: a wrong code closes 4001 SSH_AUTH_FAILED', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['keyboard-interactive'], ki: TWO_FACTOR });
    const ws = await v1(url, { method: 'keyboard-interactive' });
    await ws.waitForControl(isType('prompt'));
    ws.sendJson({ type: 'prompt-reply', responses: [KI_PASSWORD] });
    await ws.waitForControl((m) => isType('prompt')(m) && ctl(m).name === 'Two-factor');
    ws.sendJson({ type: 'prompt-reply', responses: [WRONG_OTP, 'laptop'] });
    await expectClose(ws, 4001, 'SSH_AUTH_FAILED');
    assert.deepEqual(ssh.events.logins, []);
    assert.equal(ssh.events.authFailures, 1);
  });

  void it('keyboard-interactive: a prompt-reply with the wrong number of responses is 1008 PROTOCOL_ERROR', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['keyboard-interactive'], ki: TWO_FACTOR });
    const ws = await v1(url, { method: 'keyboard-interactive' });
    await ws.waitForControl(isType('prompt'));
    ws.sendJson({ type: 'prompt-reply', responses: [KI_PASSWORD, 'extra'] });
    const closed = await ws.closed;
    assert.equal(closed.code, 1008);
    assert.equal(closed.reason, 'PROTOCOL_ERROR: protocol error: prompt-reply needs 1 responses');
    assert.deepEqual(ssh.events.logins, []);
  });

  void it('a prompt-reply nobody asked for is 1008 PROTOCOL_ERROR (while connecting and once active)', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['password'] });
    const early = await v1(url, { password: ssh.password });
    early.sendJson({ type: 'prompt-reply', responses: [] });
    const c1 = await early.closed;
    assert.equal(c1.code, 1008);
    assert.match(c1.reason, /unexpected prompt-reply/);
    const late = await v1(url, { password: ssh.password });
    await late.waitForControl(isType('ready'));
    late.sendJson({ type: 'prompt-reply', responses: [] });
    const c2 = await late.closed;
    assert.equal(c2.code, 1008);
    assert.match(c2.reason, /unexpected prompt-reply/);
  });

  void it('keyboard-interactive: no answer within ssh-auth-timeout closes 4004 SSH_AUTH_TIMEOUT', async (t) => {
    const { url } = await setupFake(t, ['--ssh-auth-timeout', '1s'], { methods: ['keyboard-interactive'], ki: TWO_FACTOR });
    const ws = await v1(url, { method: 'keyboard-interactive' });
    await ws.waitForControl(isType('prompt'));
    await expectClose(ws, 4004, 'SSH_AUTH_TIMEOUT');
  });

  void it('password auth still answers a single echo-off keyboard-interactive prompt by itself', async (t) => {
    const { ssh, url } = await setupFake(t, [], {
      methods: ['keyboard-interactive'],
      ki: [{ prompts: [{ prompt: 'Password: ', echo: false }], answers: ['wonderland'] }],
    });
    const ws = await v1(url, { password: ssh.password });
    await provesShell(ws);
    assert.equal(ws.controls().filter(isType('prompt')).length, 0);
    assert.deepEqual(ssh.events.logins, ['keyboard-interactive']);
  });

  void it('publickey with an unencrypted key logs in', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['publickey'], authorizedKey: plainPub });
    await provesShell(await v1(url, { method: 'publickey', privateKey: plainKey }));
    assert.deepEqual(ssh.events.logins, ['publickey']);
  });

  void it('publickey with an encrypted key and the right passphrase logs in', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['publickey'], authorizedKey: encPub });
    await provesShell(await v1(url, { method: 'publickey', privateKey: encKey, passphrase: PASSPHRASE }));
    assert.deepEqual(ssh.events.logins, ['publickey']);
  });

  void it('an encrypted key with a wrong or missing passphrase closes 4001 SSH_KEY_PASSPHRASE before connecting', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['publickey'], authorizedKey: encPub });
    const wrong = await v1(url, { method: 'publickey', privateKey: encKey, passphrase: WRONG_PASSPHRASE });
    await expectClose(wrong, 4001, 'SSH_KEY_PASSPHRASE');
    const missing = await v1(url, { method: 'publickey', privateKey: encKey });
    await expectClose(missing, 4001, 'SSH_KEY_PASSPHRASE');
    assert.equal(ssh.events.connections, 0, 'the target was never contacted');
  });

  void it('a key that cannot be parsed closes 4001 SSH_KEY_INVALID', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['publickey'], authorizedKey: plainPub });
    const garbage = registerSecret('-----BEGIN OPENSSH PRIVATE KEY-----\nZ2FyYmFnZS1rZXktbWF0ZXJpYWw=\n-----END OPENSSH PRIVATE KEY-----\n');
    const ws = await v1(url, { method: 'publickey', privateKey: garbage });
    await expectClose(ws, 4001, 'SSH_KEY_INVALID');
    assert.equal(ssh.events.connections, 0);
  });

  void it('a key the server does not authorize closes 4001 SSH_AUTH_FAILED', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['publickey'], authorizedKey: encPub });
    await expectClose(await v1(url, { method: 'publickey', privateKey: plainKey }), 4001, 'SSH_AUTH_FAILED');
    assert.deepEqual(ssh.events.logins, []);
  });

  void it('a method the server does not offer closes 4001 SSH_NO_AUTH_METHOD (publickey and keyboard-interactive vs password-only)', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['password'] });
    await expectClose(await v1(url, { method: 'publickey', privateKey: plainKey }), 4001, 'SSH_NO_AUTH_METHOD');
    await expectClose(await v1(url, { method: 'keyboard-interactive' }), 4001, 'SSH_NO_AUTH_METHOD');
    const pw = await openWs(url, { protocol: V1 });
    pw.sendJson({ type: 'auth', username: 'alice', password: 'not-the-password' });
    await expectClose(pw, 4001, 'SSH_AUTH_FAILED');
    assert.deepEqual(ssh.events.logins, []);
  });

  void it('password against a publickey-only server closes 4001 SSH_NO_AUTH_METHOD', async (t) => {
    const { ssh, url } = await setupFake(t, [], { methods: ['publickey'], authorizedKey: plainPub });
    await expectClose(await v1(url, { password: ssh.password }), 4001, 'SSH_NO_AUTH_METHOD');
    const seed = await openWs(url);
    seed.sendJson({ username: ssh.username, password: ssh.password });
    const closed = await seed.closed;
    assert.equal(closed.code, 4001);
    assert.match(closed.reason, /^SSH_NO_AUTH_METHOD: /);
  });
});
