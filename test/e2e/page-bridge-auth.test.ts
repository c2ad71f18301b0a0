/**
 * Gateway ("bridge") authentication from the page, in headless Chromium against the real bridge
 * (`--auth-tokens`) and the in-process fake SSH server: the Access token field, a token from a
 * portal's `#token=` fragment (gone from the address bar, never in a WebSocket URL), a fresh
 * single-use ticket for every connection attempt (automatic and button reconnects), and a bridge
 * without gateway authentication behaving as before (no field, no ticket request).
 * Fails (never skips) under CI=true when Chromium is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { chromiumAvailable, describePage, disconnect, focusTerminal, launchBrowser, typeLine, waitForPage, waitForScreen, waitForState } from '../helpers/browser.js';
import { loginInPage, openTestPage, requirePageDeps, submitLogin, tokenLine } from '../helpers/page-fixture.js';

/** A gateway access token (opaque; the bridge only knows its SHA-256). */
const TOKEN = registerSecret(`gw-${randomBytes(18).toString('base64url')}`);
const WRONG_TOKEN = registerSecret(`gw-wrong-${randomBytes(9).toString('hex')}`);
const STORAGE_KEY = 'webssh-bridge.gatewayToken';

/** Console noise that is the point of a test: a refused ticket request, a WebSocket cut by the proxy. */
const EXPECTED_NOISE = /Failed to load resource: the server responded with a status of 401|WebSocket connection to '.*' failed/;

/** Ticket requests (POST …/api/ticket) the page made, with what they carried. */
interface TicketRequest {
  readonly url: string;
  readonly method: string;
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

function recordTraffic(page: Page): { tickets(): TicketRequest[]; wsUrls(): string[]; allUrls(): string[] } {
  const tickets: TicketRequest[] = [];
  const wsUrls: string[] = [];
  const allUrls: string[] = [];
  page.on('request', (req: Request) => {
    allUrls.push(req.url());
    if (!/\/api\/ticket(?:\?|$)/.test(req.url())) return;
    const headers = req.headers();
    let body: unknown = null;
    try {
      body = JSON.parse(req.postData() ?? 'null');
    } catch {
      body = req.postData();
    }
    tickets.push({ url: req.url(), method: req.method(), authorization: headers['authorization'], contentType: headers['content-type'], body });
  });
  page.on('websocket', (ws) => wsUrls.push(ws.url()));
  return { tickets: () => [...tickets], wsUrls: () => [...wsUrls], allUrls: () => [...allUrls] };
}

/** The `ticket` query parameter of a WebSocket URL. */
function ticketOf(wsUrl: string): string | null {
  return new URL(wsUrl).searchParams.get('ticket');
}


void describe('page: gateway authentication (access token, tickets)', () => {
  let browser: Browser | undefined;
  let ssh: FakeSshHandle | undefined;
  let authBridge: BridgeHandle | undefined;
  let openBridge: BridgeHandle | undefined;
  let dir: string | undefined;

  before(async () => {
    if (!chromiumAvailable()) return;
    dir = mkdtempSync(join(tmpdir(), 'uwsb-page-gwauth-'));
    const tokens = join(dir, 'tokens');
    writeFileSync(tokens, `# gateway tokens\n${tokenLine('page-e2e', TOKEN)}\n`, { mode: 0o600 });
    ssh = await startFakeSsh();
    authBridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--auth-tokens', tokens]);
    openBridge = await startBridge(['--host-key-policy', 'accept-new-insecure']);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    try {
      await authBridge?.close(); // also the log scan: the token must never appear in a log line
    } finally {
      await openBridge?.close();
      await ssh?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  });

  function ready(t: TestContext): { browser: Browser; ssh: FakeSshHandle; authBridge: BridgeHandle; openBridge: BridgeHandle } | undefined {
    if (!requirePageDeps(t, { sshd: false })) return undefined;
    assert.ok(browser && ssh && authBridge && openBridge, 'before() did not start everything');
    return { browser, ssh, authBridge, openBridge };
  }

  /** Log in to the fake server up to its shell prompt. */
  const connectFake = (page: Page, s: FakeSshHandle): Promise<void> => loginInPage(page, s, { prompt: FAKE_PROMPT.trim() });

  async function runCount(page: Page, n: number): Promise<void> {
    await typeLine(page, `count ${n}`);
    await waitForScreen(page, new RegExp(`^${n}$`, 'm'), 15_000);
  }

  const storage = (page: Page): Promise<{ session: string | null; local: string[] }> => page.evaluate((key) => {
    const g = globalThis as unknown as { sessionStorage: { getItem(k: string): string | null }; localStorage: { length: number; key(i: number): string | null; getItem(k: string): string | null } };
    const local: string[] = [];
    for (let i = 0; i < g.localStorage.length; i++) local.push(`${g.localStorage.key(i) ?? ''}=${g.localStorage.getItem(g.localStorage.key(i) ?? '') ?? ''}`);
    return { session: g.sessionStorage.getItem(key), local };
  }, STORAGE_KEY);

  void it('shows the Access token field; without a token the gateway refuses, with it the shell works', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors, context } = await openTestPage(t, env.browser, `${env.authBridge.url}/`);
    const traffic = recordTraffic(page);
    const field = page.getByLabel('Access token', { exact: true });
    await field.waitFor({ state: 'visible' });
    assert.equal(await field.getAttribute('type'), 'password', 'the token is masked');
    assert.ok(!(await page.getByRole('button', { name: 'Forget token' }).isVisible()), 'nothing to forget yet');

    await submitLogin(page, env.ssh);
    await waitForPage(page, (s) => s.error !== null && /access token/i.test(s.error), 'an access token error', 20_000);
    assert.equal(await field.getAttribute('aria-invalid'), 'true', 'the field is marked');
    const focused = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id ?? '');
    assert.equal(focused, 'access-token', 'the field has the focus');
    assert.equal(traffic.wsUrls().length, 0, `no WebSocket without a ticket: ${JSON.stringify(traffic.wsUrls())}`);
    const refused = traffic.tickets();
    assert.equal(refused.length, 1, `one ticket request, no retry loop: ${JSON.stringify(refused)}`);
    assert.equal(refused[0]?.method, 'POST');
    assert.equal(refused[0]?.authorization, undefined, 'no Authorization header without a token');
    assert.match(refused[0]?.contentType ?? '', /^application\/json/);
    assert.deepEqual(refused[0]?.body, { host: env.ssh.host, port: env.ssh.port });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(traffic.tickets().length, 1, 'still no automatic retry after a 401');

    // A wrong token: refused, and not kept.
    await field.fill(WRONG_TOKEN);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null && /did not accept the access token/i.test(s.error), 'the invalid-token sentence', 20_000);
    assert.equal((await storage(page)).session, null, 'a rejected token is forgotten');

    await field.fill(TOKEN);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'connected', 20_000);
    await waitForScreen(page, FAKE_PROMPT.trim(), 20_000);
    await runCount(page, 7);

    const tickets = traffic.tickets();
    assert.equal(tickets.at(-1)?.authorization, `Bearer ${TOKEN}`, 'the token goes in the Authorization header');
    const ws = traffic.wsUrls();
    assert.equal(ws.length, 1, `one WebSocket: ${JSON.stringify(ws)}`);
    assert.ok(ticketOf(ws[0] ?? '') !== null, `the WebSocket carries a ticket: ${ws[0]}`);
    assert.ok(!(ws[0] ?? '').includes(TOKEN) && !(ws[0] ?? '').includes(encodeURIComponent(TOKEN)), 'never the token');
    const stored = await storage(page);
    assert.equal(stored.session, TOKEN, 'the token is kept in sessionStorage');
    assert.ok(!stored.local.some((e) => e.includes(TOKEN)), 'never in localStorage');
    assert.ok(!(await context.cookies()).some((c) => c.value.includes(TOKEN)), 'never in a cookie');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors');
  });

  void it('takes the token from #token=, removes it from the address bar and never puts it in a WebSocket URL', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.authBridge.url}/?user=alice#token=${encodeURIComponent(TOKEN)}`);
    const traffic = recordTraffic(page);
    const href = await page.evaluate(() => (globalThis as unknown as { location: { href: string } }).location.href);
    assert.ok(!href.includes('#') && !href.includes(TOKEN), `the fragment is gone from the address bar: ${href}`);
    assert.ok(href.endsWith('/?user=alice'), `path and query stay: ${href}`);
    assert.ok(!page.url().includes(TOKEN), `not in page.url() either: ${page.url()}`);
    assert.ok(await page.getByRole('button', { name: 'Forget token' }).isVisible(), 'the page says a token is saved');
    assert.equal(await page.getByLabel('Access token', { exact: true }).inputValue(), '', 'the field stays empty');

    await connectFake(page, env.ssh);
    await runCount(page, 5);

    // A reload in the same tab keeps the token (sessionStorage). The session is ended first: a
    // reload would otherwise resume it without the form (page-resume.test.ts).
    await disconnect(page);
    await waitForState(page, 'closed', 15_000);
    await page.reload({ waitUntil: 'load' });
    await connectFake(page, env.ssh);

    const ws = traffic.wsUrls();
    assert.equal(ws.length, 2, `two WebSockets: ${JSON.stringify(ws)}`);
    for (const u of ws) {
      assert.ok(u.includes('ticket='), `a ticket in ${u}`);
      assert.ok(!u.includes(TOKEN) && !u.includes(encodeURIComponent(TOKEN)), `no token in ${u}`);
    }
    assert.notEqual(ticketOf(ws[0] ?? ''), ticketOf(ws[1] ?? ''), 'a new ticket each time');
    assert.ok(traffic.tickets().every((r) => r.authorization === `Bearer ${TOKEN}`), 'every ticket request carried the token');
    assert.ok(!traffic.allUrls().some((u) => u.includes(TOKEN) || u.includes(encodeURIComponent(TOKEN))), 'no request URL holds the token');

    // Forget token: the next attempt has no credential and is refused.
    await disconnect(page);
    await page.getByRole('button', { name: 'New session' }).click();
    await page.getByRole('button', { name: 'Forget token' }).click();
    assert.equal((await storage(page)).session, null, 'forgotten');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null && /requires an access token/i.test(s.error), 'the token-required sentence', 20_000);
    assert.equal(traffic.tickets().at(-1)?.authorization, undefined);
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors');
  });

  void it('every reconnect (after a cut, and the Reconnect button) fetches a fresh ticket', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const proxy = await startTcpProxy(env.authBridge.port);
    t.after(() => proxy.close());
    const { page, errors } = await openTestPage(t, env.browser, `http://127.0.0.1:${proxy.port}/#token=${encodeURIComponent(TOKEN)}`);
    const traffic = recordTraffic(page);
    await connectFake(page, env.ssh);

    proxy.drop(); // the gateway side goes away under the session
    await waitForPage(page, () => traffic.wsUrls().length >= 2, 'a second WebSocket', 30_000);
    await waitForState(page, 'connected', 30_000);
    await waitForScreen(page, FAKE_PROMPT.trim(), 20_000);
    await runCount(page, 4);

    // A normal end, then the Reconnect button.
    await focusTerminal(page);
    await page.keyboard.type('exit\n');
    await waitForState(page, 'closed', 20_000);
    await page.getByRole('button', { name: 'Reconnect' }).click();
    await waitForState(page, 'connected', 20_000);
    await waitForScreen(page, FAKE_PROMPT.trim(), 20_000);

    const ws = traffic.wsUrls();
    const tickets = ws.map(ticketOf);
    assert.equal(ws.length, 3, `three WebSockets: ${JSON.stringify(ws)}; ${await describePage(page)}`);
    assert.ok(tickets.every((x) => x !== null && x !== ''), `each carries a ticket: ${JSON.stringify(ws)}`);
    assert.equal(new Set(tickets).size, tickets.length, `no ticket is reused: ${JSON.stringify(tickets)}`);
    assert.ok(traffic.tickets().length >= 3, `a ticket request before each WebSocket (${traffic.tickets().length})`);
    assert.ok(!ws.some((u) => u.includes(TOKEN)), 'never the token');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors');
  });

  void it('shows refusals clearly: a ticket the gateway does not know (4006), a rate limit with Retry-After', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.authBridge.url}/#token=${encodeURIComponent(TOKEN)}`);
    const traffic = recordTraffic(page);
    // Stand in for the ticket endpoint: first a ticket the bridge never issued, then a 429.
    let answers = 0;
    await page.route('**/api/ticket', async (route) => {
      answers++;
      if (answers === 1) {
        await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ ticket: 'not-a-real-ticket', expires_in: 30 }) });
      } else {
        await route.fulfill({
          status: 429, contentType: 'application/json', headers: { 'Retry-After': '7' },
          body: JSON.stringify({ code: 'RATE_LIMITED', message: 'too many connection attempts, try later' }),
        });
      }
    });
    await submitLogin(page, env.ssh);
    await waitForPage(page, (s) => s.error !== null && /connection ticket/.test(s.error), 'the TICKET_INVALID sentence', 20_000);
    assert.equal(traffic.wsUrls().length, 1);
    assert.equal(ticketOf(traffic.wsUrls()[0] ?? ''), 'not-a-real-ticket');

    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null && /too many connection attempts.*Try again in 7 s\./.test(s.error), 'the RATE_LIMITED sentence with its wait', 20_000);
    assert.equal(traffic.wsUrls().length, 1, 'no WebSocket without a ticket');
    assert.ok(!(await page.getByLabel('Access token', { exact: true }).getAttribute('aria-invalid')), 'not a token problem');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e) && !/status of 429/.test(e)), [], 'no console or page errors');
  });

  void it('without gateway authentication the page behaves as before: no field, no ticket request', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.openBridge.url}/`);
    const traffic = recordTraffic(page);
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    assert.ok(!(await page.getByLabel('Access token', { exact: true }).isVisible()), 'no Access token field');
    assert.ok(!(await page.getByRole('button', { name: 'Forget token' }).isVisible()), 'no Forget token');
    await connectFake(page, env.ssh);
    await runCount(page, 3);
    assert.deepEqual(traffic.tickets(), [], 'no ticket request');
    assert.ok(!traffic.allUrls().some((u) => u.includes('api/ticket')), 'nothing asked of api/ticket');
    const ws = traffic.wsUrls();
    assert.equal(ws.length, 1);
    assert.ok(!(ws[0] ?? '').includes('?'), `a plain WebSocket URL: ${ws[0]}`);
    assert.deepEqual(errors, [], 'no console or page errors');
  });
});
