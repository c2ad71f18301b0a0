/**
 * LoginQuestions without sockets: a question goes out through `send`, the client's answer reaches
 * the waiting asker, and every way it can go wrong has its own outcome (no question pending, the
 * wrong number of responses, no answer in time, the session closing, a client that cannot be
 * asked).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { isBridgeError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { ClientMessage, ServerControl } from '../../src/protocol/types.js';
import { LoginQuestions } from '../../src/session/login-questions.js';

const KEY = { keyType: 'ssh-ed25519', key: Buffer.alloc(51, 7), fingerprint: 'SHA256:abc' };
const ROUND = { name: '', instructions: '', prompts: [{ prompt: 'Password: ', echo: false }, { prompt: 'Code: ', echo: true }] };

function setup(opts: { canAsk?: boolean; hostKeyWaitMs?: number } = {}): { q: LoginQuestions; sent: ServerControl[]; logged: () => string } {
  const sent: ServerControl[] = [];
  let log = '';
  const logger = createLogger(true, new Writable({ write: (c: Buffer, _e, cb) => { log += c.toString(); cb(); } }));
  const q = new LoginQuestions({
    canAsk: opts.canAsk ?? true, send: (m) => sent.push(m), hostKeyWaitMs: opts.hostKeyWaitMs ?? 60_000,
    target: { host: 'example.test', port: 2222 }, logger,
  });
  return { q, sent, logged: () => log };
}

async function rejectsWith(p: Promise<unknown>, code: string, detail?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => isBridgeError(err) && err.code === code && (detail === undefined || detail.test(err.detail ?? '')));
}

void test('a host key question goes out as `hostkey` and the reply answers it', async () => {
  const { q, sent } = setup();
  const accepted = q.askHostKey(KEY);
  assert.deepEqual(sent, [{ type: 'hostkey', host: 'example.test', port: 2222, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:abc', status: 'unknown' }]);
  assert.equal(q.answer({ kind: 'hostkey-reply', accept: true }), true);
  assert.equal(await accepted, true);
  // Answered once: a second reply has no question left.
  assert.throws(() => q.answer({ kind: 'hostkey-reply', accept: true }), (e: unknown) => isBridgeError(e) && e.code === 'PROTOCOL_ERROR');
});

void test('a rejected host key resolves false; no answer in time is HOST_KEY_REJECTED and is logged', async () => {
  const a = setup();
  const rejected = a.q.askHostKey(KEY);
  a.q.answer({ kind: 'hostkey-reply', accept: false });
  assert.equal(await rejected, false);

  const b = setup({ hostKeyWaitMs: 20 });
  await rejectsWith(b.q.askHostKey(KEY), 'HOST_KEY_REJECTED', /no answer within 20 ms/);
  assert.match(b.logged(), /"answer":"timeout"/);
  assert.throws(() => b.q.answer({ kind: 'hostkey-reply', accept: true }), /unexpected hostkey-reply/);
});

void test('a keyboard-interactive round goes out as `prompt` and needs one response per prompt', async () => {
  const { q, sent, logged } = setup();
  const answered = q.askPrompt(ROUND);
  assert.deepEqual(sent, [{ type: 'prompt', ...ROUND }]);
  assert.throws(() => q.answer({ kind: 'prompt-reply', responses: ['only one'] }), /prompt-reply needs 2 responses/);
  assert.equal(q.answer({ kind: 'prompt-reply', responses: ['s3cret-response', '123456'] }), true);
  assert.deepEqual(await answered, ['s3cret-response', '123456']);
  assert.throws(() => q.answer({ kind: 'prompt-reply', responses: [] }), /unexpected prompt-reply/);
  assert.ok(!logged().includes('s3cret-response'), 'responses are never logged');
});

void test('anything but an answer is not taken', () => {
  const { q } = setup();
  const others: ClientMessage[] = [{ kind: 'input', data: Buffer.from('ls\r') }, { kind: 'resize', cols: 80, rows: 24 }, { kind: 'ping', payload: undefined }];
  for (const m of others) assert.equal(q.answer(m), false);
});

void test('cancel releases both waiters with CLIENT_CLOSED, and nothing more is asked', async () => {
  const { q, sent } = setup();
  const key = q.askHostKey(KEY);
  const round = q.askPrompt(ROUND);
  q.cancel();
  await rejectsWith(key, 'CLIENT_CLOSED', /host key question/);
  await rejectsWith(round, 'CLIENT_CLOSED', /during authentication/);
  assert.equal(await q.askHostKey(KEY), false);
  await rejectsWith(q.askPrompt(ROUND), 'CLIENT_CLOSED');
  assert.equal(sent.length, 2, 'no question after the cancel');
  q.cancel(); // idempotent
});

void test('a client that cannot be asked gets no keyboard-interactive round', async () => {
  const { q, sent } = setup({ canAsk: false });
  assert.equal(q.canAsk, false);
  await rejectsWith(q.askPrompt(ROUND), 'PROTOCOL_ERROR', /needs a v1 client/);
  assert.equal(sent.length, 0);
});
