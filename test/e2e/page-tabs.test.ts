/**
 * Several sessions in one page (issue 13, item 5), in headless Chromium against the real bridge
 * and a real OpenSSH sshd:
 *
 * - New session opens a second session in a tab of its own (the page in a same-origin frame);
 *   the tabs' shortcuts switch between them and each keeps its own shell;
 * - the split view shows two side by side, a click moves the keyboard; closing a live session
 *   asks, then ends only that one (the bridge counts one session fewer at once: a clean close,
 *   not a socket left to its grace period);
 * - a reload brings the tabs back and each pane resumes its own shell;
 * - a duplicated browser tab (a copy of the tab's sessionStorage while the original is open)
 *   starts a login of its own instead of taking the session over; once the original is gone, a
 *   restored copy resumes.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import {
  describePage, login, typeLine, until, waitForScreen, waitForState, type PageOrFrame,
} from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';
import { TEST_PROMPT } from '../helpers/sshd.js';

interface Storage {
  readonly length: number;
  key(i: number): string | null;
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
}
interface Rect { x: number; y: number; width: number; height: number }
/** The browser globals used here (the Node project has no DOM lib). */
interface Globals {
  readonly sessionStorage: Storage;
  readonly document: {
    readonly title: string;
    getElementById(id: string): { getBoundingClientRect(): Rect; dataset: Record<string, string | undefined> } | null;
  };
}

void describe('page: several sessions in one page', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

  let tagSeq = 0;
  /** The shell's PID (`$$`), read through the terminal of a page or pane. */
  async function shellPid(p: PageOrFrame): Promise<string> {
    const tag = `tab${++tagSeq}x`;
    await typeLine(p, `echo ${tag}-$$-${tag}`);
    const screen = await waitForScreen(p, new RegExp(`${tag}-\\d+-${tag}`), 20_000);
    return new RegExp(`${tag}-(\\d+)-${tag}`).exec(screen)?.[1] ?? '';
  }

  /** The frame of pane `n` once its page has loaded its test hooks. */
  async function pane(page: Page, n: number): Promise<Frame> {
    let frame: Frame | null = null;
    await until(page, async () => {
      frame = page.frames().find((f) => new URL(f.url()).searchParams.get('pane') === String(n)) ?? null;
      return frame !== null && await frame.evaluate(() => 'document' in globalThis && (globalThis as unknown as { __uwsb?: unknown }).__uwsb !== undefined).catch(() => false);
    }, `the frame of pane ${n}`, 20_000);
    assert.ok(frame);
    return frame;
  }

  const place = (page: Page, id: string): Promise<string> => page.evaluate((el) => (globalThis as unknown as Globals).document.getElementById(el)?.dataset['place'] ?? '', id);
  const rect = (page: Page, id: string): Promise<Rect> => page.evaluate((el) => {
    const r = (globalThis as unknown as Globals).document.getElementById(el)?.getBoundingClientRect();
    return { x: r?.x ?? 0, y: r?.y ?? 0, width: r?.width ?? 0, height: r?.height ?? 0 };
  }, id);
  const tabs = (page: Page) => page.getByRole('navigation', { name: 'Sessions' }).locator('.tab-pick');

  /** A page with its own session (pane 0) and a second one in pane 1. */
  async function twoSessions(page: Page, sshd: Parameters<typeof loginInPage>[1]): Promise<{ frame: Frame; pids: [string, string] }> {
    await loginInPage(page, sshd);
    const first = await shellPid(page);
    await page.getByRole('button', { name: 'Open another session' }).click();
    const frame = await pane(page, 1);
    await frame.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await login(frame, sshd);
    await waitForState(frame, 'connected', 20_000);
    await waitForScreen(frame, TEST_PROMPT.trim(), 20_000);
    const second = await shellPid(frame);
    return { frame, pids: [first, second] };
  }

  void it('New session opens a second session in a tab; the shortcuts switch tabs and each keeps its shell', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1200, height: 700 });
    assert.ok(await page.getByRole('navigation', { name: 'Sessions' }).isHidden(), 'no strip for one session');
    const before = env.bridge.app.manager.size; // sessions of earlier tests may still wait for a resume
    const { frame, pids } = await twoSessions(page, env.sshd);
    assert.notEqual(pids[0], pids[1], 'two shells');
    assert.equal(env.bridge.app.manager.size, before + 2);
    assert.equal(await tabs(page).count(), 2);
    const who = `${env.sshd.username}@127.0.0.1:${env.sshd.port}`;
    assert.deepEqual(await tabs(page).allTextContents(), [who, who]);
    assert.equal(await tabs(page).nth(1).getAttribute('aria-current'), 'true', 'the new tab is the current one');
    assert.equal(await place(page, 'app'), 'none', 'pane 0 is hidden behind pane 1');
    assert.equal(await place(page, 'pane-1'), 'single');

    // Alt+Shift+Left from inside the frame's terminal: pane 0 comes back with the keyboard.
    await page.keyboard.press('Alt+Shift+ArrowLeft');
    await until(page, async () => (await place(page, 'app')) === 'single', 'pane 0 shown', 10_000);
    assert.equal(await tabs(page).nth(0).getAttribute('aria-current'), 'true');
    await page.keyboard.type('echo ZERO-$((2*3))\n');
    await waitForScreen(page, 'ZERO-6', 15_000);
    // Alt+Shift+2: pane 1; what is typed goes to its shell only.
    await page.keyboard.press('Alt+Shift+Digit2');
    await until(page, async () => (await place(page, 'pane-1')) === 'single', 'pane 1 shown', 10_000);
    await until(page, async () => frame.evaluate(() => (globalThis as unknown as { document: { hasFocus(): boolean } }).document.hasFocus()), 'pane 1 has the keyboard', 10_000);
    await page.keyboard.type('echo ONE-$((3*3))\n');
    await waitForScreen(frame, 'ONE-9', 15_000);
    assert.ok(!(await describePage(page)).includes('ONE-9'), 'pane 0 did not get pane 1\'s keys');
    assert.equal(await shellPid(frame), pids[1], 'pane 1 kept its shell');
    await page.keyboard.press('Alt+Shift+Digit1');
    await until(page, async () => (await place(page, 'app')) === 'single', 'pane 0 shown', 10_000);
    assert.equal(await shellPid(page), pids[0], 'pane 0 kept its shell');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the split view shows two sessions side by side; closing a live one asks, then ends only it', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1200, height: 700 });
    const { frame, pids } = await twoSessions(page, env.sshd);
    await page.getByRole('button', { name: 'Split view' }).click();
    assert.equal(await page.getByRole('button', { name: 'Split view' }).getAttribute('aria-pressed'), 'true');
    await until(page, async () => (await place(page, 'app')) !== 'none' && (await place(page, 'pane-1')) !== 'none', 'both panes shown', 10_000);
    const a = await rect(page, 'app');
    const b = await rect(page, 'pane-1');
    assert.ok(a.width > 300 && b.width > 300, `both have room: ${JSON.stringify({ a, b })}`);
    assert.ok(a.x + a.width <= b.x + 1 || b.x + b.width <= a.x + 1, `side by side, not overlapping: ${JSON.stringify({ a, b })}`);
    // A click in pane 0's terminal gives it the keyboard (and the current tab).
    await page.locator('#terminal').click();
    await until(page, async () => (await tabs(page).nth(0).getAttribute('aria-current')) === 'true', 'tab 1 current after the click', 10_000);
    await page.keyboard.type('echo LEFT-$((4*4))\n');
    await waitForScreen(page, 'LEFT-16', 15_000);
    // Each terminal was fitted to its half: fewer columns than the window would give one.
    assert.equal(await shellPid(frame), pids[1]);

    // Close pane 1 (live): the question names its session; Cancel keeps it, Close ends it.
    const closeBtn = page.getByRole('button', { name: `Close ${env.sshd.username}@127.0.0.1:${env.sshd.port}` }).nth(1);
    await closeBtn.click();
    const dialog = page.getByRole('dialog', { name: 'Close this session?' });
    await dialog.waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await tabs(page).count(), 2, 'Cancel keeps the tab');
    await closeBtn.click();
    await dialog.waitFor({ state: 'visible' });
    const before = env.bridge.app.manager.size;
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await until(page, () => Promise.resolve(env.bridge.app.manager.size === before - 1), 'the bridge ended pane 1\'s session (a clean close, not a grace period)', 15_000);
    await until(page, async () => page.getByRole('navigation', { name: 'Sessions' }).isHidden(), 'the strip goes with the second tab', 10_000);
    assert.equal(page.frames().length, 1, 'the frame is gone');
    assert.equal(await place(page, 'app'), 'single', 'pane 0 fills the page again');
    await waitForState(page, 'connected');
    assert.equal(await shellPid(page), pids[0], 'pane 0 kept its shell');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a reload brings the tabs back and each pane resumes its own shell', { timeout: 150_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1200, height: 700 });
    const before = env.bridge.app.manager.size;
    const { pids } = await twoSessions(page, env.sshd);
    page.on('dialog', (d) => void d.accept()); // the leave question of a live page
    await page.reload({ waitUntil: 'load' });
    await waitForState(page, 'connected', 30_000);
    const frame = await pane(page, 1);
    await waitForState(frame, 'connected', 30_000);
    assert.equal(await tabs(page).count(), 2, 'both tabs are back');
    assert.equal(await tabs(page).nth(1).getAttribute('aria-current'), 'true', 'the same tab is current');
    assert.equal(await shellPid(frame), pids[1], 'pane 1 resumed its shell');
    await page.keyboard.press('Alt+Shift+ArrowLeft');
    await until(page, async () => (await place(page, 'app')) === 'single', 'pane 0 shown', 10_000);
    assert.equal(await shellPid(page), pids[0], 'pane 0 resumed its shell');
    assert.equal(env.bridge.app.manager.size, before + 2, 'still two sessions');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a duplicated tab starts a login of its own; a restored one resumes', { timeout: 150_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const first = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(first.page, env.sshd);
    const pid = await shellPid(first.page);
    await until(first.page, async () => (await storage(first.page))['webssh-bridge.resume'] !== undefined, 'the resume record', 20_000);
    const copy = await storage(first.page);
    const before = env.bridge.app.manager.size;

    // A duplicate: same browser, a copy of the tab's sessionStorage, the original still open.
    const dup = await pageWithStorage(first.page, copy, `${env.bridge.url}/`);
    await dup.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await until(dup, async () => /a copy of one that still has the session/.test((await dup.locator('#notice').textContent()) ?? ''), 'the copy\'s notice', 10_000);
    assert.equal(await dup.getByLabel('Username', { exact: true }).inputValue(), env.sshd.username, 'the form is pre-filled');
    assert.equal(await dup.getByLabel('Host', { exact: true }).inputValue(), '127.0.0.1');
    assert.equal((await storage(dup))['webssh-bridge.resume'], undefined, 'the copy forgot the record');
    await waitForState(first.page, 'connected');
    assert.equal(await shellPid(first.page), pid, 'the original keeps its session');
    assert.equal(env.bridge.app.manager.size, before, 'no second session, no takeover');
    await dup.close();

    // Restored: the original tab is gone (closed without a clean end: the session waits for it).
    await first.page.close({ runBeforeUnload: false });
    const restored = await pageWithStorage(null, copy, `${env.bridge.url}/`, first.context);
    await waitForState(restored, 'connected', 30_000);
    assert.equal(await shellPid(restored), pid, 'the restored tab resumed the same shell');
    assert.deepEqual(first.errors, [], 'no console or page errors');
  });

  async function storage(p: Page): Promise<Record<string, string>> {
    return p.evaluate(() => {
      const st = (globalThis as unknown as Globals).sessionStorage;
      const out: Record<string, string> = {};
      for (let i = 0; i < st.length; i++) {
        const k = st.key(i);
        if (k !== null) out[k] = st.getItem(k) ?? '';
      }
      return out;
    });
  }

  /** A new page of the same browser (context) that starts with `items` in its sessionStorage. */
  async function pageWithStorage(from: Page | null, items: Record<string, string>, url: string, context = from?.context()): Promise<Page> {
    assert.ok(context);
    const p = await context.newPage();
    await p.addInitScript((entries: Record<string, string>) => {
      const st = (globalThis as unknown as Globals).sessionStorage;
      if (st.getItem('__seeded') !== null) return;
      st.setItem('__seeded', '1');
      for (const [k, v] of Object.entries(entries)) st.setItem(k, v);
    }, items);
    await p.goto(url, { waitUntil: 'load' });
    return p;
  }
});
