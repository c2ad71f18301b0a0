/**
 * How the bridge serves the page over HTTP (no browser needed): content types, the strict
 * Content-Security-Policy and an HTML with no inline script for it to block, ETag revalidation,
 * the page's config.json, and the same page and WebSocket route under `--base-path`. The
 * production page (dist/web/), which is also what a bridge serves by default, carries no test hooks.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config/loader.js';
import { createLogger } from '../../src/log.js';
import { startBridge, TEST_WEB_ROOT, type BridgeHandle } from '../helpers/bridge.js';
import { startFakeSsh, FAKE_PROMPT, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';

const PAGE_INDEX = fileURLToPath(new URL('../../web/index.html', import.meta.url));
const BUILD_HINT = `the page is not built (${PAGE_INDEX} missing): run \`npm run build\``;

/** Every <script> element: its attributes and body. */
function scripts(html: string): Array<{ attrs: string; body: string }> {
  return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)].map((m) => ({ attrs: m[1] ?? '', body: m[2] ?? '' }));
}

/** The value of attribute `name` in an attribute string, or undefined. */
function attr(attrs: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  return m === null ? undefined : (m[1] ?? m[2] ?? m[3]);
}

/** Stylesheets linked from the page. */
function stylesheets(html: string): string[] {
  return [...html.matchAll(/<link\b([^>]*)>/gi)]
    .map((m) => m[1] ?? '')
    .filter((a) => /\srel\s*=\s*["']?stylesheet/i.test(a))
    .map((a) => attr(a, 'href'))
    .filter((h): h is string => h !== undefined);
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; headers: Headers; text: string }> {
  const res = await fetch(url, { headers, redirect: 'manual' });
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, text: await res.text() };
}

void describe('the page over HTTP', () => {
  let bridge: BridgeHandle | undefined;

  before(async () => { bridge = await startBridge([], { page: 'production' }); });
  after(async () => { await bridge?.close(); });

  void it('GET / is HTML under a strict CSP, with no inline script', async () => {
    assert.ok(existsSync(PAGE_INDEX), BUILD_HINT);
    assert.ok(bridge);
    const page = await get(`${bridge.url}/`);
    assert.equal(page.status, 200, BUILD_HINT);
    assert.match(page.type, /^text\/html\b/);
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /(^|;)\s*script-src 'self'(\s|;|$)/, `CSP: ${csp}`);
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-(inline|eval)'/, 'scripts: no unsafe-inline / unsafe-eval');
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    // The page frames itself (one frame per extra session of its tabs); no other origin may.
    assert.match(csp, /(^|;)\s*frame-ancestors 'self'(\s*;|$)/, `CSP: ${csp}`);
    assert.equal(page.headers.get('x-frame-options'), 'SAMEORIGIN');
    const list = scripts(page.text);
    assert.ok(list.length > 0, `the page loads a script; html:\n${page.text}`);
    for (const s of list) {
      assert.ok(attr(s.attrs, 'src') !== undefined, `every <script> has a src: <script${s.attrs}>`);
      assert.equal(s.body.trim(), '', `no inline script body: <script${s.attrs}>${s.body.slice(0, 200)}`);
    }
    assert.doesNotMatch(page.text, /<[^>]+\son[a-z]+\s*=/i, 'no inline event handler attributes (the CSP would block them)');
    assert.doesNotMatch(page.text, /\shref\s*=\s*["']?\s*javascript:/i, 'no javascript: URLs');
  });

  void it('assets: app.js is text/javascript, app.css is text/css, both linked from the page', async () => {
    assert.ok(existsSync(PAGE_INDEX), BUILD_HINT);
    assert.ok(bridge);
    const js = await get(`${bridge.url}/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.type, /^text\/javascript\b/);
    assert.ok(js.text.length > 1000, 'the bundle is not empty');
    const css = await get(`${bridge.url}/assets/app.css`);
    assert.equal(css.status, 200);
    assert.match(css.type, /^text\/css\b/);
    const html = (await get(`${bridge.url}/`)).text;
    const base = new URL(`${bridge.url}/`);
    const srcs = scripts(html).map((s) => new URL(attr(s.attrs, 'src') ?? '', base).pathname);
    assert.ok(srcs.includes('/assets/app.js'), `the page loads assets/app.js: ${JSON.stringify(srcs)}`);
    const hrefs = stylesheets(html).map((h) => new URL(h, base).pathname);
    assert.ok(hrefs.includes('/assets/app.css'), `the page links assets/app.css: ${JSON.stringify(hrefs)}`);
    // Every script and stylesheet the page references is served with the right type.
    for (const path of [...srcs, ...hrefs]) {
      const res = await get(new URL(path, base).href);
      assert.equal(res.status, 200, `${path} is served`);
    }
  });

  void it('a second GET with If-None-Match gets 304 (page and assets)', async () => {
    assert.ok(existsSync(PAGE_INDEX), BUILD_HINT);
    assert.ok(bridge);
    for (const path of ['/', '/assets/app.js', '/assets/app.css']) {
      const first = await get(`${bridge.url}${path}`);
      assert.equal(first.status, 200, path);
      const etag = first.headers.get('etag');
      assert.ok(etag !== null && etag !== '', `${path} has an ETag`);
      const again = await get(`${bridge.url}${path}`, { 'If-None-Match': etag });
      assert.equal(again.status, 304, `${path} revalidates`);
      assert.equal(again.text, '', '304 has no body');
      const stale = await get(`${bridge.url}${path}`, { 'If-None-Match': '"not-the-etag"' });
      assert.equal(stale.status, 200, `${path} with a stale ETag is served in full`);
    }
  });

  void it('config.json tells the page there is no fixed target', async () => {
    assert.ok(bridge);
    const res = await get(`${bridge.url}/config.json`);
    assert.equal(res.status, 200);
    assert.match(res.type, /^application\/json\b/);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    assert.equal(body.fixedTarget, null, res.text);
    assert.equal(typeof body.version, 'string', res.text);
  });
});

void describe('the test hooks', () => {
  const hooks = /__uwsb/;
  /** The text of every script of a build (app.js and the on-demand chunks). */
  const scriptsOf = (root: string): string[] => {
    const dir = join(root, 'assets');
    return readdirSync(dir).filter((n) => n.endsWith('.js')).map((n) => readFileSync(join(dir, n), 'utf8'));
  };

  void it('are in no script of the production page, and in the test build the browser tests get', () => {
    assert.ok(existsSync(PAGE_INDEX), BUILD_HINT);
    const production = scriptsOf(fileURLToPath(new URL('../../web/', import.meta.url)));
    assert.ok(production.length >= 2, 'app.js and its chunk');
    for (const text of production) assert.doesNotMatch(text, hooks);
    assert.ok(scriptsOf(TEST_WEB_ROOT).some((text) => hooks.test(text)), 'the test build installs window.__uwsb');
  });

  void it('a bridge serves the production page unless the test harness chooses the test build', async () => {
    const result = loadConfig(['--server-address', '127.0.0.1:0'], {});
    assert.ok(result.kind === 'config');
    const plain = new App(result.config, { logger: createLogger(false, new Writable({ write: (_chunk, _enc, cb) => cb() })) });
    const test = await startBridge();
    try {
      const url = (await plain.listen()).url;
      const served = await get(`${url}/assets/app.js`);
      assert.equal(served.status, 200, BUILD_HINT);
      assert.doesNotMatch(served.text, hooks);
      assert.match((await get(`${test.url}/assets/app.js`)).text, hooks);
    } finally {
      await plain.close();
      await test.close();
    }
  });
});

void describe('the page under --base-path /ssh', () => {
  let bridge: BridgeHandle | undefined;
  let ssh: FakeSshHandle | undefined;

  before(async () => {
    bridge = await startBridge(['--base-path', '/ssh', '--host-key-policy', 'accept-new-insecure'], { page: 'production' });
    ssh = await startFakeSsh();
  });
  after(async () => {
    await bridge?.close();
    await ssh?.close();
  });

  void it('/ssh/ serves the page, its assets resolve under /ssh/, config.json is there too', async () => {
    assert.ok(existsSync(PAGE_INDEX), BUILD_HINT);
    assert.ok(bridge);
    const page = await get(`${bridge.url}/ssh/`);
    assert.equal(page.status, 200, BUILD_HINT);
    assert.match(page.type, /^text\/html\b/);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    const base = new URL(`${bridge.url}/ssh/`);
    // Asset references must work under a sub-path: relative, or carrying the base path.
    const refs = [...scripts(page.text).map((s) => attr(s.attrs, 'src') ?? ''), ...stylesheets(page.text)];
    for (const ref of refs) {
      const url = new URL(ref, base);
      assert.ok(url.pathname.startsWith('/ssh/'), `${ref} resolves under /ssh/ (got ${url.pathname})`);
      assert.equal((await get(url.href)).status, 200, `${url.pathname} is served`);
    }
    const js = await get(`${bridge.url}/ssh/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.type, /^text\/javascript\b/);
    const css = await get(`${bridge.url}/ssh/assets/app.css`);
    assert.equal(css.status, 200);
    assert.match(css.type, /^text\/css\b/);
    const config = JSON.parse((await get(`${bridge.url}/ssh/config.json`)).text) as Record<string, unknown>;
    assert.equal(config.fixedTarget, null);
  });

  void it('/ssh without the slash redirects to /ssh/, keeping the query', async () => {
    assert.ok(bridge);
    const res = await fetch(`${bridge.url}/ssh?host=h&user=u`, { redirect: 'manual' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.get('location'), '/ssh/?host=h&user=u');
  });

  void it('a v1 WebSocket to /ssh/ws/127.0.0.1/<port> reaches the shell', async () => {
    assert.ok(bridge && ssh);
    const ws = await openWs(`${bridge.wsBase}/ssh/ws/127.0.0.1/${ssh.port}`, { protocol: 'webssh-bridge.v1' });
    ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 100, rows: 30, flowControl: true });
    await ws.waitForControl((m) => (m as { type?: unknown }).type === 'ready');
    await ws.waitForOutput(FAKE_PROMPT);
    ws.sendBinary(Buffer.from('size\r'));
    await ws.waitForOutput('30 100');
    ws.sendBinary(Buffer.from('exit 3\r'));
    const closed = await ws.closed;
    assert.equal(closed.code, 1000);
    assert.match(closed.reason, /exit status 3/);
  });
});
