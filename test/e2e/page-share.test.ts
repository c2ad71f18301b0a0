/**
 * View-only session sharing from the page (docs/protocol.md#sharing), in headless Chromium
 * (Debian's /usr/bin/chromium via playwright-core) against the real bridge and a real OpenSSH sshd:
 *
 * - the owner (whose page was opened with `?host=…&port=…&user=…`) clicks Share and gets a link
 *   `<page without its query>#share=<token>&target=<host>:<port>`; a second page opening it sees
 *   the owner's screen from before the link (the `share` snapshot), then live output, at the
 *   owner's terminal size (also after the owner's window changes), and the owner's page shows one
 *   watcher with its address and a toast saying who joined;
 * - the viewer cannot type: keystrokes and a paste in the viewer send no frame at all and never
 *   reach the shell; Stop watching and Rejoin work;
 * - Stop sharing cuts the viewer ("The share link ended: the owner stopped sharing", the session
 *   still running, "Open the gateway", no reconnect) and the watcher count goes back to 0; the dead
 *   link then opens a page of its own with the reason, whose "Open the gateway" leads to the
 *   connect form; the shell exiting shows "The session ended" to the viewer, with "Open the gateway";
 * - a gateway with sharing off answers Share with a sentence, and the session goes on;
 * - with gateway token authentication, a viewer asked for the access token watches with a ticket,
 *   and the token never appears in any URL the browser requested.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page, Request } from 'playwright-core';
import { startBridge } from '../helpers/bridge.js';
import { registerSecret } from '../helpers/secrets.js';
import {
  describePage, recordWsFrames, typeLine, until, waitForScreen, waitForState, type OpenedPage, type PageGlobals, type UwsbHooks,
} from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';

const PROMPT = 'uwsb$';
const GATEWAY_TOKEN = registerSecret(`gw-share-${randomBytes(18).toString('base64url')}`);

/** The page's test hooks, with the sharing additions. */
interface ShareHooks extends UwsbHooks {
  isViewer(): boolean;
  shareLink(): string | null;
  viewerCount(): number;
  recordOutput(on: boolean): void;
  recordedOutput(): string;
}

/** The browser globals used here (the Node project has no DOM lib). */
interface Globals {
  readonly __uwsb?: ShareHooks;
  readonly sessionStorage: { getItem(k: string): string | null; readonly length: number; key(i: number): string | null };
}

const shareLink = (page: Page): Promise<string | null> => page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.shareLink() ?? null);
const viewerCount = (page: Page): Promise<number> => page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.viewerCount() ?? -1);
const isViewer = (page: Page): Promise<boolean> => page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.isViewer() ?? false);
const termSize = (page: Page): Promise<{ cols: number; rows: number }> => page.evaluate(() => {
  const t = (globalThis as unknown as Globals).__uwsb?.term;
  return { cols: t?.cols ?? -1, rows: t?.rows ?? -1 };
});
const noticeText = async (page: Page): Promise<string> => (await page.locator('#notice').textContent()) ?? '';

/** Every text the toast region (`#toast`) shows from now on, as the page's own observer saw it. */
async function watchToasts(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const g = globalThis as unknown as {
      __toasts?: string[];
      document: { getElementById(id: string): { textContent: string | null } | null };
      MutationObserver: new (cb: () => void) => { observe(target: unknown, opts: Record<string, boolean>): void };
    };
    const el = g.document.getElementById('toast');
    const seen: string[] = [];
    g.__toasts = seen;
    new g.MutationObserver(() => {
      const text = el?.textContent ?? '';
      if (text !== '') seen.push(text);
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });
  return () => page.evaluate(() => [...((globalThis as unknown as { __toasts?: string[] }).__toasts ?? [])]);
}

/** The viewer's "Open the gateway" link: shown, and pointing at the gateway's page without the link. */
async function assertGatewayLink(page: Page, gateway: string): Promise<void> {
  const open = page.getByRole('link', { name: 'Open the gateway' });
  await open.waitFor({ state: 'visible', timeout: 10_000 });
  assert.equal(await open.evaluate((a) => (a as unknown as { href: string }).href), gateway, 'the gateway\'s page, no fragment or query');
}

/** Everything in the tab's sessionStorage, as `key=value` lines. */
const storageDump = (page: Page): Promise<string> => page.evaluate(() => {
  const st = (globalThis as unknown as Globals).sessionStorage;
  let all = '';
  for (let i = 0; i < st.length; i++) all += `${st.key(i) ?? ''}=${st.getItem(st.key(i) ?? '') ?? ''}\n`;
  return all;
});

/** Click Share and wait for the link (checked against the panel's field); returns it. */
async function share(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Share', exact: true }).click();
  await until(page, async () => (await shareLink(page)) !== null, 'the view link', 20_000);
  const link = (await shareLink(page)) ?? '';
  assert.equal(await page.getByLabel('View link', { exact: true }).inputValue(), link, 'the panel shows the link');
  const token = new URLSearchParams(new URL(link).hash.slice(1)).get('share');
  if (token !== null) registerSecret(token);
  return link;
}

type Frames = ReturnType<typeof recordWsFrames>;
type Opener = (url: string, size?: { width: number; height: number }) => Promise<OpenedPage>;

/** Open the link in a fresh page (its WebSocket frames recorded from the start) and wait until it watches. */
async function watch(open: Opener, link: string, size?: { width: number; height: number }): Promise<OpenedPage & { frames: Frames }> {
  const viewer = await open('about:blank', size);
  const frames = recordWsFrames(viewer.page);
  await viewer.page.goto(link, { waitUntil: 'load' });
  await waitForState(viewer.page, 'connected', 30_000);
  return { ...viewer, frames };
}

void describe('page: view-only sharing in Chromium against a real sshd', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

  const opener = (t: TestContext, b: Browser): Opener => (url, size) => openTestPage(t, b, url, size);

  void it('a viewer sees the screen from before the link, then live output, at the owner\'s size; the owner sees one watcher', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const open = opener(t, env.browser);
    // The owner came with a pre-filled form: that query says who logs in where, and stays out of the link.
    const owner = await open(`${env.bridge.url}/?host=${env.sshd.host}&port=${env.sshd.port}&user=${env.sshd.username}`);
    const ownerFrames = recordWsFrames(owner.page);
    await loginInPage(owner.page, env.sshd);
    assert.ok(!(await owner.page.getByRole('button', { name: 'Share', exact: true }).isDisabled()), 'Share is enabled in a live session');
    const toasts = await watchToasts(owner.page);
    await typeLine(owner.page, 'echo BEFORE-$((6*7))-MARK');
    await waitForScreen(owner.page, 'BEFORE-42-MARK', 15_000);

    const link = await share(owner.page);
    const url = new URL(link);
    assert.equal(`${url.origin}${url.pathname}${url.search}`, `${env.bridge.url}/`, `the link is this page's URL without its query: ${link}`);
    assert.ok(!link.includes(env.sshd.username), `the owner's user name is not in the link: ${link}`);
    const fragment = new URLSearchParams(url.hash.slice(1));
    assert.ok((fragment.get('share') ?? '').length > 20, `the token is in the fragment: ${url.hash}`);
    assert.equal(fragment.get('target'), `${env.sshd.host}:${env.sshd.port}`, 'the link names the route');
    const sent = ownerFrames.sentJson().filter((m) => m.type === 'share');
    assert.equal(sent.length, 1, 'one share message');
    assert.ok(typeof sent[0]?.snapshot === 'string' && sent[0].snapshot.includes('BEFORE-42-MARK'), 'the owner sent its screen as the snapshot');
    assert.ok(await owner.page.getByText(/works until/).isVisible(), 'the panel says when the link expires');

    // A smaller window than the owner's: the viewer still shows the owner's size.
    const viewer = await watch(open, link, { width: 760, height: 520 });
    assert.equal(await isViewer(viewer.page), true, 'the page is a viewer');
    assert.ok(!(await viewer.page.locator('#connect-screen').isVisible()), 'no login form for a viewer');
    await waitForScreen(viewer.page, 'BEFORE-42-MARK', 20_000);
    assert.match((await viewer.page.getByRole('status').textContent()) ?? '', new RegExp(`Viewing ${env.sshd.username}@127\\.0\\.0\\.1:${env.sshd.port} \\(read only\\)`));
    assert.deepEqual(await termSize(viewer.page), await termSize(owner.page), 'the viewer\'s terminal has the owner\'s size');

    await until(owner.page, async () => (await viewerCount(owner.page)) === 1, 'one watcher on the owner\'s page', 20_000);
    await until(owner.page, async () => (await toasts()).includes('anonymous (127.0.0.1) is now watching your session.'), 'the owner\'s toast about the viewer', 20_000);
    assert.equal(await owner.page.locator('#toast').getAttribute('aria-live'), 'polite', 'the toast is a live region');
    const watchers = owner.page.getByRole('button', { name: '1 watching' });
    await watchers.click();
    const list = owner.page.locator('#watchers-list li');
    assert.equal(await list.count(), 1, 'one viewer listed');
    assert.match((await list.first().textContent()) ?? '', /anonymous 127\.0\.0\.1, since /, 'the viewer\'s identity, address and since when');

    await typeLine(owner.page, 'echo AFTER-$((7*8))-MARK');
    await waitForScreen(viewer.page, 'AFTER-56-MARK', 20_000);

    // The owner's window changes: the viewer follows the owner's size, not its own window.
    const ownerSize = async (): Promise<string> => JSON.stringify(await termSize(owner.page));
    const before = await ownerSize();
    await owner.page.setViewportSize({ width: 820, height: 560 });
    await until(owner.page, async () => (await ownerSize()) !== before, 'the owner\'s terminal refitted', 20_000);
    await until(viewer.page, async () => JSON.stringify(await termSize(viewer.page)) === await ownerSize(), 'the viewer at the owner\'s new size', 20_000);
    assert.ok(ownerFrames.sentJson().some((m) => m.type === 'resize'), 'the owner sent its new size');
    await typeLine(owner.page, 'echo RESIZED-$((9*9))-MARK');
    await waitForScreen(viewer.page, 'RESIZED-81-MARK', 20_000);

    assert.doesNotMatch(await storageDump(viewer.page), /resume|share/i, 'no resume record or link in the viewer\'s sessionStorage');
    assert.deepEqual(owner.errors, [], 'no console or page errors (owner)');
    assert.deepEqual(viewer.errors, [], 'no console or page errors (viewer)');
  });

  void it('the viewer cannot type or paste: nothing is sent, nothing reaches the shell; Stop watching and Rejoin', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const open = opener(t, env.browser);
    const owner = await open(`${env.bridge.url}/`);
    await loginInPage(owner.page, env.sshd);
    await owner.page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.recordOutput(true));
    const link = await share(owner.page);
    const viewer = await watch(open, link);
    const viewerFrames = viewer.frames;
    await waitForScreen(viewer.page, PROMPT, 20_000);

    // Keystrokes and a paste in the viewer: a command that would print a marker.
    await typeLine(viewer.page, 'echo VIEWER-$((3*3))-TYPED');
    await viewer.page.keyboard.press('Control+c');
    await viewer.page.locator('#terminal').evaluate((el) => {
      const g = globalThis as unknown as PageGlobals;
      const data = new g.DataTransfer();
      data.setData('text/plain', 'echo PASTED-$((4*4))-TEXT\n');
      el.dispatchEvent(new g.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    // The owner's own command afterwards: once its output is there, anything typed before it ran.
    await typeLine(owner.page, 'echo OWNER-$((2*2))-DONE');
    await waitForScreen(owner.page, 'OWNER-4-DONE', 20_000);
    await waitForScreen(viewer.page, 'OWNER-4-DONE', 20_000);
    const recorded = await owner.page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.recordedOutput() ?? '');
    assert.ok(recorded.includes('OWNER-4-DONE'), 'the owner\'s output was recorded');
    for (const text of ['VIEWER-', 'PASTED-', '^C']) {
      assert.ok(!recorded.includes(text), `the viewer's input (${text}) never reached the shell: ${JSON.stringify(recorded)}`);
    }
    assert.equal(viewerFrames.urls().length, 1, 'one viewer socket');
    assert.deepEqual(viewerFrames.sentJson(), [], 'the viewer sent no control message');
    assert.equal(viewerFrames.sentBinaryBytes(), 0, 'the viewer sent no terminal input');
    assert.equal(await viewer.page.evaluate(() => (globalThis as unknown as { __uwsb?: { term: { options: { disableStdin?: boolean } } } }).__uwsb?.term.options.disableStdin), true, 'xterm.js input is disabled');

    // Stop watching, then an explicit Rejoin: the screen comes back, the owner counts one again.
    await until(owner.page, async () => (await viewerCount(owner.page)) === 1, 'one watcher', 20_000);
    await viewer.page.getByRole('button', { name: 'Stop watching' }).click();
    await waitForState(viewer.page, 'closed', 15_000);
    await until(owner.page, async () => (await viewerCount(owner.page)) === 0, 'no watcher after Stop watching', 20_000);
    await viewer.page.getByRole('button', { name: 'Rejoin' }).click();
    await waitForState(viewer.page, 'connected', 30_000);
    await waitForScreen(viewer.page, 'OWNER-4-DONE', 20_000);
    await until(owner.page, async () => (await viewerCount(owner.page)) === 1, 'one watcher after Rejoin', 20_000);
    assert.equal(viewerFrames.urls().length, 2, 'Rejoin opened one new socket');
    assert.equal(viewerFrames.sentBinaryBytes(), 0, 'still nothing sent');
    assert.deepEqual(viewer.errors, [], 'no console or page errors (viewer)');
  });

  void it('Stop sharing cuts the viewer ("the owner stopped sharing", the session still runs, Open the gateway); the dead link gets a page of its own', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const open = opener(t, env.browser);
    const owner = await open(`${env.bridge.url}/`);
    const ownerFrames = recordWsFrames(owner.page);
    await loginInPage(owner.page, env.sshd);
    const link = await share(owner.page);
    const viewer = await watch(open, link);
    await waitForScreen(viewer.page, PROMPT, 20_000);
    await until(owner.page, async () => (await viewerCount(owner.page)) === 1, 'one watcher', 20_000);

    // The panel may have been closed meanwhile: Share opens it again with the same link.
    if (!(await owner.page.getByRole('button', { name: 'Stop sharing' }).isVisible())) await owner.page.getByRole('button', { name: 'Share', exact: true }).click();
    await owner.page.getByRole('button', { name: 'Stop sharing' }).click();
    assert.deepEqual(ownerFrames.sentJson().filter((m) => m.type === 'share-revoke'), [{ type: 'share-revoke' }], 'share-revoke without a link id');
    await until(viewer.page, async () => /The share link ended/.test(await noticeText(viewer.page)), 'the link-ended sentence', 20_000);
    assert.match(await noticeText(viewer.page), /the owner stopped sharing\. Their session is still running\./, 'the viewer is told the session goes on');
    await assertGatewayLink(viewer.page, `${env.bridge.url}/`);
    await waitForState(viewer.page, 'closed', 10_000);
    await until(owner.page, async () => (await viewerCount(owner.page)) === 0, 'no watcher', 20_000);
    assert.equal(await shareLink(owner.page), null, 'the owner has no link any more');
    assert.ok(!(await owner.page.getByRole('button', { name: /watching/ }).isVisible()), 'the watching indicator is gone');
    assert.ok(!(await viewer.page.getByRole('button', { name: 'Rejoin' }).isVisible()), 'no Rejoin for an ended link');
    await sleep(2500);
    assert.equal(viewer.frames.urls().length, 1, 'the viewer opened no new socket');
    assert.ok(viewer.frames.receivedJson().some((m) => m.type === 'error' && m.code === 'SHARE_REVOKED'), `the bridge said SHARE_REVOKED: ${JSON.stringify(viewer.frames.receivedJson())}`);
    assert.equal((await describePage(viewer.page)).startsWith('state=closed'), true, 'the viewer stays closed');

    // The session goes on for the owner, and the old link is dead for a new viewer.
    await typeLine(owner.page, 'echo STILL-$((5*5))-HERE');
    await waitForScreen(owner.page, 'STILL-25-HERE', 15_000);
    const late = await open(link);
    await late.page.getByRole('heading', { name: 'This shared session is not available' }).waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(await noticeText(late.page), /This share link no longer works: its owner stopped sharing, or the session is over\./, 'the reason');
    assert.equal(await late.page.locator('#app').getAttribute('data-mode'), 'form', 'a page of its own, not an empty terminal');
    assert.ok(await late.page.locator('#connect-screen').isVisible(), 'the card is shown');
    assert.equal((await describePage(late.page)).startsWith('state=closed'), true, 'a dead link does not connect');
    assert.ok(!(await late.page.getByRole('button', { name: 'Stop watching' }).isVisible()), 'nothing to stop');
    await assertGatewayLink(late.page, `${env.bridge.url}/`);
    // Open the gateway: the gateway's own page, the connect form, not a viewer.
    await late.page.getByRole('link', { name: 'Open the gateway' }).click();
    await late.page.getByLabel('Username', { exact: true }).waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await isViewer(late.page), false, 'the gateway\'s page is not a viewer');
    assert.equal(late.page.url(), `${env.bridge.url}/`);
    assert.deepEqual(late.errors, [], 'no console or page errors (dead link)');
  });

  void it('the shell exiting shows "The session ended" in the viewer; the owner\'s sharing state is cleared', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const open = opener(t, env.browser);
    const owner = await open(`${env.bridge.url}/`);
    await loginInPage(owner.page, env.sshd);
    const link = await share(owner.page);
    const viewer = await watch(open, link);
    await waitForScreen(viewer.page, PROMPT, 20_000);
    await until(owner.page, async () => (await viewerCount(owner.page)) === 1, 'one watcher', 20_000);

    await typeLine(owner.page, 'exit 3');
    await until(viewer.page, async () => /The session ended/.test(await noticeText(viewer.page)), 'the session-ended sentence', 20_000);
    assert.match(await noticeText(viewer.page), /status 3/, 'the exit status is told');
    await assertGatewayLink(viewer.page, `${env.bridge.url}/`);
    await waitForState(viewer.page, 'closed', 10_000);
    assert.ok(!(await viewer.page.getByRole('button', { name: 'Rejoin' }).isVisible()), 'no Rejoin after the session ended');
    await waitForState(owner.page, 'closed', 15_000);
    assert.equal(await shareLink(owner.page), null, 'the owner\'s link is cleared');
    assert.equal(await viewerCount(owner.page), 0, 'no watchers after the end');
    assert.ok(!(await owner.page.getByRole('button', { name: 'Share', exact: true }).isVisible()), 'no Share button without a session');
    assert.ok(!(await owner.page.locator('#share-panel').isVisible()), 'the share panel is closed');
  });

  void it('a gateway with sharing off answers Share with a sentence, and the session goes on', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const off = await startBridge(['--host-key-policy', 'accept-new-insecure', '--share-ttl', '0']);
    t.after(() => off.close());
    const open = opener(t, env.browser);
    const owner = await open(`${off.url}/`);
    await loginInPage(owner.page, env.sshd);
    await owner.page.getByRole('button', { name: 'Share', exact: true }).click();
    await owner.page.getByText('Sharing is turned off on this gateway.').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await shareLink(owner.page), null, 'no link');
    assert.ok(!(await owner.page.getByLabel('View link', { exact: true }).isVisible()), 'no link field');
    await typeLine(owner.page, 'echo GOES-$((8*8))-ON');
    await waitForScreen(owner.page, 'GOES-64-ON', 15_000);
    assert.equal(await owner.page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.state() ?? 'none'), 'connected', 'the session goes on');
    assert.deepEqual(owner.errors, [], 'no console or page errors');
  });
});

void describe('page: sharing with gateway token authentication', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'], tokens: { 'share-e2e': GATEWAY_TOKEN } });

  void it('a viewer asked for the access token watches through a ticket; the token is in no URL', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const owner = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(GATEWAY_TOKEN)}`);
    await loginInPage(owner.page, env.sshd);
    await typeLine(owner.page, 'echo AUTHED-$((6*6))-SHARE');
    await waitForScreen(owner.page, 'AUTHED-36-SHARE', 15_000);
    const link = await share(owner.page);
    assert.ok(!link.includes(GATEWAY_TOKEN), 'the gateway token is not part of the view link');

    // A new browser context: no token in this tab yet.
    const viewer = await openTestPage(t, env.browser, 'about:blank');
    const requested: Array<{ url: string; authorization: string | undefined }> = [];
    viewer.page.on('request', (req: Request) => requested.push({ url: req.url(), authorization: req.headers()['authorization'] }));
    const frames = recordWsFrames(viewer.page);
    await viewer.page.goto(link, { waitUntil: 'load' });
    const field = viewer.page.getByLabel('Access token to watch', { exact: true });
    await field.waitFor({ state: 'visible', timeout: 20_000 });
    assert.ok(!(await viewer.page.getByLabel('Username', { exact: true }).isVisible()), 'no login form, only the token');
    await field.fill(GATEWAY_TOKEN);
    await viewer.page.getByRole('button', { name: 'Watch', exact: true }).click();
    await waitForState(viewer.page, 'connected', 30_000);
    await waitForScreen(viewer.page, 'AUTHED-36-SHARE', 20_000);
    await until(owner.page, async () => (await viewerCount(owner.page)) === 1, 'one watcher', 20_000);
    await owner.page.getByRole('button', { name: '1 watching' }).click();
    assert.match((await owner.page.locator('#watchers-list li').first().textContent()) ?? '', /^share-e2e /, 'the owner sees the viewer\'s gateway identity');

    const tickets = requested.filter((r) => /\/api\/ticket$/.test(r.url));
    assert.equal(tickets.length, 1, `one ticket request: ${JSON.stringify(requested.map((r) => r.url))}`);
    assert.equal(tickets[0]?.authorization, `Bearer ${GATEWAY_TOKEN}`, 'the token went in the ticket request\'s header');
    const ws = frames.urls().map((u) => new URL(u));
    assert.equal(ws.length, 1, 'one viewer socket');
    assert.ok(ws[0]?.searchParams.has('ticket') && !ws[0].searchParams.has('share'), `the socket URL carries a ticket, not the link: ${ws[0]?.pathname ?? ''}`);
    const urls = [...requested.map((r) => r.url), ...frames.urls(), viewer.page.url()];
    assert.ok(!urls.some((u) => u.includes(GATEWAY_TOKEN) || u.includes(encodeURIComponent(GATEWAY_TOKEN))), 'the gateway token is in no URL the browser requested');
    const shareToken = new URLSearchParams(new URL(link).hash.slice(1)).get('share') ?? '';
    assert.ok(shareToken.length > 20 && !urls.some((u) => u.includes(shareToken) && !u.includes('#')), 'the share token is in no URL the browser requested (it goes as a subprotocol entry)');
    assert.deepEqual(frames.sentJson(), [], 'the viewer sent nothing');
    assert.deepEqual(viewer.errors, [], 'no console or page errors (viewer)');
    assert.deepEqual(owner.errors, [], 'no console or page errors (owner)');
  });
});
