/**
 * docs/examples/nginx.conf in front of a real bridge (docs/deployment.md#behind-nginx): a real
 * nginx (Debian's) runs the example, with only its listen address, certificate paths and
 * upstream port rewritten, and the bridge trusts it (`--trusted-proxies 127.0.0.1`). Through it:
 * the page over TLS, a WebSocket login (the same-origin check passes on the browser's Host), the
 * client's own address in the session's log lines, and a file upload streamed through.
 * Fails (never skips) under CI=true when nginx is missing.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';
import { makePki } from '../helpers/pki.js';
import { NGINX_PATH, nginxAvailable, requireOrSkip } from '../helpers/require.js';
import { TEST_PASSWORD, TEST_PROMPT, TEST_USER } from '../helpers/sshd.js';
import { useSshdBridge } from '../helpers/sshd-bridge.js';
import { openWs } from '../helpers/ws-client.js';
import { filesToken } from '../helpers/files-client.js';

const V1 = 'webssh-bridge.v1';
const isType = (type: string) => (m: unknown): boolean => (m as { type?: string }).type === type;
const EXAMPLE = fileURLToPath(new URL('../../../docs/examples/nginx.conf', import.meta.url));

interface Nginx {
  readonly port: number;
  readonly ca: Buffer;
}

/** The example with this test's address, certificate and upstream, under an nginx of its own; stopped after the test. */
async function startNginx(t: TestContext, upstream: number): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-nginx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pki = makePki();
  t.after(() => pki.remove());
  const tls = pki.selfSigned('nginx');
  const port = await freePort();
  const example = readFileSync(EXAMPLE, 'utf8');
  const site = example
    .replace('    listen 443 ssl;\n', `    listen 127.0.0.1:${port} ssl;\n`)
    .replace('    listen [::]:443 ssl;\n', '')
    .replace(/ssl_certificate\s+\S+;/, `ssl_certificate ${tls.cert};`)
    .replace(/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${tls.key};`)
    .replace('http://127.0.0.1:8080;', `http://127.0.0.1:${upstream};`);
  assert.notEqual(site, example);
  for (const kept of ['proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header X-Forwarded-For $remote_addr;', `listen 127.0.0.1:${port} ssl;`, `127.0.0.1:${upstream}`]) assert.ok(site.includes(kept), kept);
  writeFileSync(join(dir, 'webssh-bridge.conf'), site);
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d), { mode: 0o777 });
  writeFileSync(join(dir, 'nginx.conf'), [
    'daemon off;', 'worker_processes 1;', `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${dir}/access.log;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${dir}/${k === 'client_body' ? 'body' : k};`),
    `  include ${dir}/webssh-bridge.conf;`,
    '}', '',
  ].join('\n'));
  const child = spawn(NGINX_PATH, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    child.kill('SIGTERM'); // fast shutdown: a graceful one (SIGQUIT) waits out the open WebSockets (proxy_read_timeout 1h)
    await exited;
  });
  // Started when the port accepts; an nginx that exits first failed its config.
  for (let up = false; !up;) {
    if (child.exitCode !== null) assert.fail(`nginx exited: ${stderr}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); }).once('error', () => resolve(false));
    });
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  return { port, ca: readFileSync(tls.cert) };
}

function https(nginx: Nginx, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: nginx.port, method, path, ca: nginx.ca, servername: 'localhost', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

void describe('behind nginx: docs/examples/nginx.conf in front of a real bridge and a real sshd', () => {
  const fx = useSshdBridge(['--trusted-proxies', '127.0.0.1', '--host-key-policy', 'accept-new-insecure']);

  void it('the page over TLS; a WebSocket login with the client\'s own address in the log; a streamed upload', { timeout: 60_000 }, async (t) => {
    if (!requireOrSkip(t, 'nginx', nginxAvailable(), `${NGINX_PATH}; apt-get install nginx`) || !fx.ready(t)) return;
    const bridge = fx.bridge;
    const sshd = fx.sshd;
    assert.ok(bridge !== undefined && sshd !== undefined);
    const nginx = await startNginx(t, bridge.port);
    const origin = `https://127.0.0.1:${nginx.port}`;

    const page = await https(nginx, 'GET', '/');
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /<html/i);

    // From 127.0.0.9, as a browser on the page's origin would connect.
    const ws = await openWs(`wss://127.0.0.1:${nginx.port}/ws/127.0.0.1/${sshd.port}`, { protocol: V1, origin, ca: nginx.ca, localAddress: '127.0.0.9' });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: TEST_USER, password: TEST_PASSWORD });
    await ws.waitForControl(isType('ready'));
    await ws.waitForOutput(TEST_PROMPT);
    ws.sendBinary(Buffer.from('echo through-nginx\r'));
    await ws.waitForOutput('through-nginx');
    const start = bridge.logs().filter((l) => l['event'] === 'session_start').at(-1);
    assert.equal(start?.['client_ip'], '127.0.0.9', 'X-Forwarded-For from a trusted proxy names the client');

    // A file request goes through nginx too, its body streamed (no buffering, no body limit there).
    const token = await filesToken(ws);
    const data = randomBytes(3 * 1024 * 1024);
    const name = `uwsb-nginx-${randomBytes(4).toString('hex')}.bin`;
    t.after(() => rmSync(join('/home', TEST_USER, name), { force: true }));
    const put = await https(nginx, 'PUT', `/api/files/upload?${new URLSearchParams({ path: name }).toString()}`, { 'x-files-token': token, origin, 'content-length': String(data.length) }, data);
    assert.equal(put.status, 201, put.body.toString());
    const sha = createHash('sha256').update(data).digest('hex');
    assert.equal((JSON.parse(put.body.toString()) as { sha256?: string }).sha256, sha);
    assert.equal(createHash('sha256').update(readFileSync(join('/home', TEST_USER, name))).digest('hex'), sha, 'the file on the server');
  });
});
