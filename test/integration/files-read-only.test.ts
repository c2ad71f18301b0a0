/**
 * Who may change files (docs/protocol.md#read-only-identities), against a real OpenSSH sshd:
 * `--files-upload-subjects` by gateway subject (token names, JWT subs), and a JWT's
 * `webssh_files: "read"` narrowing its own bearer, and a token line's `files=read` flag. A
 * read-only identity gets FILES_READ_ONLY for upload, mkdir, rename and delete (nothing reaches
 * the server) and can still list and download; its `files-token` answer says `"write": false`
 * up front (true for an identity that may write).
 */
import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { newToken } from '../../src/auth/tokens.js';
import { TEST_PROMPT } from '../helpers/sshd.js';
import { useSshdBridge } from '../helpers/sshd-bridge.js';
import { openWs } from '../helpers/ws-client.js';
import { call, filesToken, q } from '../helpers/files-client.js';
import { registerSecret } from '../helpers/secrets.js';

const V1 = 'webssh-bridge.v1';
const HOME = '/home/uwsbtest';
const ISS = 'https://idp.test';
const AUD = 'webssh-bridge-test';
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;

const conf = mkdtempSync(join(tmpdir(), 'uwsb-files-ro-'));
const writer = newToken('ci-deploy');
const reader = newToken('viewer');
// Its name matches files-upload-subjects: only its own `files=read` flag makes it read-only.
const auditor = newToken('ci-auditor', false, 'read');
registerSecret(writer.token);
registerSecret(reader.token);
registerSecret(auditor.token);
writeFileSync(join(conf, 'tokens'), `${writer.line}\n${reader.line}\n${auditor.line}\n`);
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
writeFileSync(join(conf, 'jwt.pub'), publicKey.export({ type: 'spki', format: 'pem' }));

async function jwt(claims: Record<string, unknown>): Promise<string> {
  const token = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(ISS).setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  return registerSecret(token);
}

void describe('read-only file access per gateway identity (real sshd, sftp)', () => {
  const fx = useSshdBridge([
    '--host-key-policy', 'accept-new-insecure', '--rate-burst', '10000',
    '--auth-tokens', join(conf, 'tokens'),
    '--auth-jwt-public-key', join(conf, 'jwt.pub'), '--auth-jwt-issuer', ISS, '--auth-jwt-audience', AUD,
    '--files-upload-subjects', 'ci-*,alice@idp',
  ]);
  after(() => rmSync(conf, { recursive: true, force: true }));
  const base = (): string => fx.bridge?.url ?? '';

  /** A session logged in with `bearer`, its file token and what the answer said of writing, and a folder (made as root) with one file. */
  async function rig(t: TestContext, bearer: string): Promise<{ token: string; write: unknown; dir: string }> {
    const ws = await openWs(fx.url, { protocol: V1, headers: { Authorization: `Bearer ${bearer}` } });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: fx.sshd?.username, password: fx.sshd?.password });
    await ws.waitForControl(isType('ready'), 15_000);
    await ws.waitForOutput(TEST_PROMPT, 15_000);
    const token = await filesToken(ws);
    const answer = ws.controls().filter(isType('files-token')).at(-1) as { write?: unknown };
    const dir = `uwsb-ro-${randomBytes(4).toString('hex')}`;
    t.after(() => rmSync(join(HOME, dir), { recursive: true, force: true }));
    mkdirSync(join(HOME, dir), { mode: 0o755 });
    writeFileSync(join(HOME, dir, 'seen.txt'), 'read me\n', { mode: 0o666 });
    assert.equal(spawnSync('chown', ['-R', 'uwsbtest:', join(HOME, dir)]).status, 0);
    return { token, write: answer.write, dir };
  }

  async function writes(token: string, dir: string): Promise<Array<[number, unknown]>> {
    const answers = [
      await call(base(), 'PUT', `api/files/upload?${q({ path: `${dir}/new.txt` })}`, { token, body: Buffer.from('x') }),
      await call(base(), 'POST', `api/files/mkdir?${q({ path: `${dir}/sub` })}`, { token }),
      await call(base(), 'POST', `api/files/rename?${q({ from: `${dir}/seen.txt`, to: `${dir}/moved.txt` })}`, { token }),
      await call(base(), 'POST', `api/files/delete?${q({ path: `${dir}/seen.txt` })}`, { token }),
    ];
    return answers.map((a) => [a.status, a.json?.['code']]);
  }

  async function reads(token: string, dir: string): Promise<void> {
    const list = await call(base(), 'GET', `api/files/list?${q({ path: dir })}`, { token });
    assert.equal(list.status, 200, list.body.toString());
    const link = await call(base(), 'POST', `api/files/download-link?${q({ path: `${dir}/seen.txt` })}`, { token });
    assert.equal(link.status, 200, link.body.toString());
    const url = String(link.json?.['url']);
    registerSecret(url.slice(url.indexOf('t=') + 2));
    const got = await call(base(), 'GET', url.slice(1));
    assert.equal(got.status, 200);
    assert.equal(got.body.toString(), 'read me\n');
  }

  void it('a token whose name is not in files-upload-subjects may list and download, not upload, mkdir, rename or delete', async (t) => {
    if (!fx.ready(t)) return;
    const { token, write, dir } = await rig(t, reader.token);
    assert.equal(write, false, 'the files-token answer says so up front');
    const refused: [number, unknown] = [403, 'FILES_READ_ONLY'];
    assert.deepEqual(await writes(token, dir), [refused, refused, refused, refused]);
    assert.ok(existsSync(join(HOME, dir, 'seen.txt')) && !existsSync(join(HOME, dir, 'new.txt')) && !existsSync(join(HOME, dir, 'sub')));
    await reads(token, dir);
    const refusals = (fx.bridge?.logs() ?? []).filter((l) => l['event'] === 'files_refused' && l['code'] === 'FILES_READ_ONLY');
    assert.equal(refusals.length, 4);
    assert.equal(refusals[0]?.['detail'], 'not in files-upload-subjects');
  });

  void it('a token whose name matches may change files', async (t) => {
    if (!fx.ready(t)) return;
    const { token, write, dir } = await rig(t, writer.token);
    assert.equal(write, true, 'the files-token answer says it may write');
    assert.deepEqual(await writes(token, dir), [[201, undefined], [201, undefined], [200, undefined], [404, 'FILES_NOT_FOUND']]);
    assert.ok(existsSync(join(HOME, dir, 'new.txt')) && existsSync(join(HOME, dir, 'moved.txt')));
  });

  void it('JWTs: a listed sub may write; webssh_files "read" narrows it; an unlisted sub may only read', async (t) => {
    if (!fx.ready(t)) return;
    const alice = await rig(t, await jwt({ sub: 'alice@idp' }));
    assert.equal(alice.write, true);
    assert.equal((await call(base(), 'POST', `api/files/mkdir?${q({ path: `${alice.dir}/sub` })}`, { token: alice.token })).status, 201);
    const narrowed = await rig(t, await jwt({ sub: 'alice@idp', webssh_files: 'read' }));
    assert.equal(narrowed.write, false);
    const refused = await call(base(), 'POST', `api/files/mkdir?${q({ path: `${narrowed.dir}/sub` })}`, { token: narrowed.token });
    assert.deepEqual([refused.status, refused.json?.['code'], refused.json?.['message']], [403, 'FILES_READ_ONLY', 'this gateway identity may read files but not change them: webssh_files is "read"']);
    await reads(narrowed.token, narrowed.dir);
    const bob = await rig(t, await jwt({ sub: 'bob@idp', webssh_files: 'write' }));
    assert.equal(bob.write, false, 'not in files-upload-subjects');
    assert.equal((await call(base(), 'POST', `api/files/mkdir?${q({ path: `${bob.dir}/sub` })}`, { token: bob.token })).json?.['code'], 'FILES_READ_ONLY');
    await reads(bob.token, bob.dir);
  });

  void it('a token line with files=read: read-only although its name is in files-upload-subjects', async (t) => {
    if (!fx.ready(t)) return;
    const { token, write, dir } = await rig(t, auditor.token);
    assert.equal(write, false, 'the files-token answer says so up front');
    const upload = await call(base(), 'PUT', `api/files/upload?${q({ path: `${dir}/new.txt` })}`, { token, body: Buffer.from('x') });
    assert.deepEqual([upload.status, upload.json?.['code'], upload.json?.['message']], [403, 'FILES_READ_ONLY', 'this gateway identity may read files but not change them: the token is files=read']);
    assert.ok(!existsSync(join(HOME, dir, 'new.txt')));
    await reads(token, dir);
  });
});
