/**
 * The page's file API client (web/src/files-api.ts) with a stubbed `fetch`: the token is asked
 * once over the session's socket for requests that wait together, the header carries it, a
 * FILES_TOKEN_INVALID answer asks for a fresh token and tries once more, `files-refused` and a
 * refusal become sentences with their codes; each token's `write` reaches the access listener
 * (absent in the message: true).
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { FilesApi, FilesError } from '../../../web/src/files-api.js';
import { parseServerMessage } from '../../../web/src/messages.js';

const realFetch = globalThis.fetch;
afterEach(() => {
  globalThis.fetch = realFetch;
});

interface Seen { url: string; method: string; token: string }

function stubFetch(answer: (seen: Seen, n: number) => { status: number; body: unknown }): Seen[] {
  const seen: Seen[] = [];
  globalThis.fetch = ((url: string, init: { method: string; headers: Record<string, string> }) => {
    const s = { url, method: init.method, token: init.headers['X-Files-Token'] ?? '' };
    seen.push(s);
    const { status, body } = answer(s, seen.length);
    return Promise.resolve(new Response(JSON.stringify(body), { status }));
  }) as typeof fetch;
  return seen;
}

const listing = { path: '/home/u', entries: [{ name: 'a', type: 'file', size: 1, mtime: 0, mode: 0o100644 }] };

void test('one token for requests that wait together; it goes in X-Files-Token', async () => {
  let asked = 0;
  const api = new FilesApi(() => {
    asked++;
    return true;
  });
  const seen = stubFetch(() => ({ status: 200, body: listing }));
  const both = Promise.all([api.list('.'), api.list('/tmp')]);
  api.received({ type: 'files-token', token: 'T1', expiresInMs: 300_000, write: true });
  const [a] = await both;
  assert.equal(asked, 1);
  assert.equal(a.path, '/home/u');
  assert.deepEqual(seen.map((s) => [s.method, s.url, s.token]), [['GET', 'api/files/list?path=.', 'T1'], ['GET', 'api/files/list?path=%2Ftmp', 'T1']]);
  await api.mkdir('/home/u/new dir');
  assert.equal(asked, 1, 'a fresh token is used again');
  assert.deepEqual([seen[2]?.method, seen[2]?.url], ['POST', 'api/files/mkdir?path=%2Fhome%2Fu%2Fnew+dir']);
});

void test('FILES_TOKEN_INVALID: a new token, then the request once more', async () => {
  let asked = 0;
  const api = new FilesApi(() => {
    asked++;
    queueMicrotask(() => api.received({ type: 'files-token', token: `T${asked}`, expiresInMs: 300_000, write: true }));
    return true;
  });
  const seen = stubFetch((s) => (s.token === 'T1' ? { status: 401, body: { code: 'FILES_TOKEN_INVALID', message: 'x' } } : { status: 200, body: { path: '/p' } }));
  await api.remove('/p');
  assert.equal(asked, 2);
  assert.deepEqual(seen.map((s) => s.token), ['T1', 'T2']);
});

void test('refusals read as sentences with their codes', async () => {
  const api = new FilesApi(() => true);
  const pending = api.list('.');
  api.received({ type: 'files-refused', code: 'FILES_DISABLED', message: 'file transfer is off on this gateway' });
  await assert.rejects(pending, (err: unknown) => err instanceof FilesError && err.text === 'File transfer is off on this gateway (FILES_DISABLED)');
  api.received({ type: 'files-token', token: 'T', expiresInMs: 300_000, write: true });
  stubFetch(() => ({ status: 403, body: { code: 'FILES_PERMISSION_DENIED', message: 'permission denied' } }));
  await assert.rejects(api.remove('/etc/passwd'), (err: unknown) => err instanceof FilesError && err.text === 'Permission denied (FILES_PERMISSION_DENIED)');
  // No live session: the request fails at once, without a request.
  const offline = new FilesApi(() => false);
  await assert.rejects(offline.list('.'), (err: unknown) => err instanceof FilesError && err.code === null);
});

void test('each token tells whether the session may write; a bridge that does not say means yes', async () => {
  const heard: boolean[] = [];
  const api = new FilesApi(() => true, (write) => heard.push(write));
  stubFetch(() => ({ status: 200, body: listing }));
  const first = api.list('.');
  const readOnly = parseServerMessage(JSON.stringify({ type: 'files-token', token: 'R', expiresInMs: 300_000, write: false }));
  assert.deepEqual(readOnly, { type: 'files-token', token: 'R', expiresInMs: 300_000, write: false });
  api.received(readOnly ?? assert.fail('parsed'));
  await first;
  assert.deepEqual(heard, [false]);
  const older = parseServerMessage(JSON.stringify({ type: 'files-token', token: 'W', expiresInMs: 300_000 }));
  assert.equal(older?.type === 'files-token' && older.write, true);
  api.received(older ?? assert.fail('parsed'));
  assert.deepEqual(heard, [false, true]);
});
