/** HTTPS/WSS when a certificate is given: TLS >= 1.2 only; and the HTTP handshake deadline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startBridge } from '../helpers/bridge.js';
import { startFakeSsh, FAKE_PROMPT } from '../helpers/ssh-server.js';

function selfSigned(): { dir: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { dir, cert, key };
}

void test('with a certificate the bridge speaks HTTPS and WSS, and refuses TLS 1.1', async (t) => {
  const { dir, cert, key } = selfSigned();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure'], { env: { UWSB_SERVER_CERT_FILE: cert, UWSB_SERVER_KEY_FILE: key } });
  t.after(() => bridge.close());
  assert.match(bridge.url, /^https:\/\//);
  const health = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: bridge.port, ca: execFileSync('cat', [cert]) }, () => s.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('end', () => resolve(Object.fromEntries(text.split('\r\n\r\n')[0]?.split('\r\n').slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]) ?? [])));
    s.once('error', reject);
  });
  assert.equal(health['strict-transport-security'], 'max-age=31536000');
  assert.equal(health['x-content-type-options'], 'nosniff');

  const ws = new WebSocket(`${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`, { ca: execFileSync('cat', [cert]) });
  const out: Buffer[] = [];
  ws.on('message', (d) => out.push(d as Buffer));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ username: ssh.username, password: ssh.password }));
  const deadline = Date.now() + 10_000;
  while (!Buffer.concat(out).toString().includes(FAKE_PROMPT) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(Buffer.concat(out).toString().includes(FAKE_PROMPT));
  ws.close();

  const old = await new Promise<string>((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: bridge.port, maxVersion: 'TLSv1.1', minVersion: 'TLSv1', rejectUnauthorized: false });
    s.once('secureConnect', () => { s.destroy(); resolve('connected'); });
    s.once('error', (err: Error & { code?: string }) => resolve(err.code ?? err.message));
  });
  assert.notEqual(old, 'connected');
});

void test('a client that never finishes its request head is cut after ws-handshake-timeout', async (t) => {
  const bridge = await startBridge(['--ws-handshake-timeout', '300ms']);
  t.after(() => bridge.close());
  const started = Date.now();
  const response = await new Promise<string>((resolve, reject) => {
    const s = netConnect(bridge.port, '127.0.0.1', () => s.write('GET /ws/127.0.0.1/22 HTTP/1.1\r\nHost: x\r\n'));
    let text = '';
    s.on('data', (d) => (text += d.toString()));
    s.once('close', () => resolve(text));
    s.once('error', reject);
    setTimeout(() => reject(new Error('connection not closed within 10 s')), 10_000).unref();
  });
  assert.match(response, /^HTTP\/1\.1 408/);
  t.diagnostic(`cut after ${Date.now() - started} ms`);
});

void test('oversized request headers get 431 with a JSON code', async (t) => {
  const bridge = await startBridge();
  t.after(() => bridge.close());
  const res = await new Promise<string>((resolve, reject) => {
    const s = netConnect(bridge.port, '127.0.0.1', () => s.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));
    let text = '';
    s.on('data', (d) => (text += d.toString()));
    s.once('close', () => resolve(text));
    s.once('error', reject);
  });
  assert.match(res, /^HTTP\/1\.1 431/);
  assert.match(res, /"code":"HEADERS_TOO_LARGE"/);
});
