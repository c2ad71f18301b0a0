/**
 * The page on a phone: headless Chromium emulating a 390x844 touch screen (`isMobile`,
 * `hasTouch`) against the real bridge (gateway tokens and recording on, so the toolbar also
 * shows Recordings) and a real OpenSSH sshd:
 *
 * - vim is driven with only the extra-keys bar (taps) and the on-screen keyboard (text inserted
 *   into the terminal's input, and its Enter key): open a file, type, move with the arrows, Tab
 *   and the symbol keys, Esc, `:wq`; then sticky Ctrl and Alt at the shell prompt; the file holds
 *   exactly what was typed (the `phone-terminal` screenshot is taken in vim);
 * - the toolbar folds into its More menu: every tool is on screen or in the menu, Theme, Share
 *   and Disconnect work from there, with Recordings and "0 watching" shown, and the status line
 *   keeps its state readable;
 * - the changed-host-key warning is laid out (title, each fingerprint in monospace on a line of
 *   its own, then what to do) and nothing overflows its box.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { login, until, waitForPage, waitForScreen, waitForState, type PageGlobals } from '../helpers/browser.js';
import { changedKeyBridge, loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';
import { saveScreenshot } from '../helpers/screenshots.js';
import { registerSecret } from '../helpers/secrets.js';

const PHONE = { width: 390, height: 844, touch: true } as const;
const TOKEN = registerSecret(`gw-phone-${randomBytes(18).toString('base64url')}`);
const PROMPT = 'uwsb$';

/** The browser globals used here (the Node project has no DOM lib). */
interface Globals extends PageGlobals {
  readonly innerWidth: number;
  readonly innerHeight: number;
  readonly document: PageGlobals['document'] & {
    getElementById(id: string): Box | null;
    querySelectorAll(selector: string): ArrayLike<Box>;
    readonly documentElement: { getAttribute(name: string): string | null };
  };
  getComputedStyle(el: Box): { fontFamily: string; display: string };
}
interface Rect { left: number; right: number; top: number; bottom: number; width: number }
interface Box {
  readonly id: string;
  readonly tagName: string;
  readonly textContent: string | null;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  readonly hidden: boolean;
  closest(selector: string): Box | null;
  getBoundingClientRect(): Rect;
  getClientRects(): ArrayLike<Rect>;
}

/** Tap a key of the extra-keys bar by its name. */
async function tapKey(page: Page, name: string): Promise<void> {
  await page.getByRole('toolbar', { name: 'Extra keys' }).getByRole('button', { name, exact: true }).tap();
}

/** Type on the on-screen keyboard: text goes into the focused terminal as input events (no key events), Enter is its Enter key. */
async function softType(page: Page, text: string, enter = false): Promise<void> {
  await page.keyboard.insertText(text);
  if (enter) await page.keyboard.press('Enter');
}

/** Click a toolbar tool by its accessible name, through the More menu when it is folded there. */
async function reach(page: Page, name: string): Promise<void> {
  const inBar = page.locator('#tools').getByRole('button', { name, exact: true });
  const box = await inBar.isVisible() ? await inBar.boundingBox() : null;
  if (box !== null && box.x >= 0 && box.x + box.width <= PHONE.width + 0.5) {
    await inBar.tap();
    return;
  }
  const more = page.getByRole('button', { name: 'More tools', exact: true });
  assert.ok(await more.isVisible(), `"${name}" is neither on screen (${JSON.stringify(box)}) nor behind a More button`);
  await more.tap();
  const item = page.getByRole('group', { name: 'More tools' }).getByRole('button', { name, exact: true });
  await item.waitFor({ state: 'visible', timeout: 5_000 });
  await item.tap();
}

void describe('page on a phone (390x844, touch) against a real sshd', () => {
  const recordings = mkdtempSync(join(tmpdir(), 'uwsb-phone-rec-'));
  after(() => rmSync(recordings, { recursive: true, force: true }));
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure', '--record-dir', recordings], tokens: { phone: TOKEN } });

  void it('drives vim with only the extra-keys bar and the on-screen keyboard; sticky Ctrl and Alt reach the shell', { timeout: 150_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(TOKEN)}`, PHONE);
    await loginInPage(page, env.sshd);
    const bar = page.getByRole('toolbar', { name: 'Extra keys' });
    assert.ok(await bar.isVisible(), 'the extra-keys bar is shown on a touch screen');
    const box = await bar.boundingBox();
    assert.ok(box !== null && box.y + box.height <= PHONE.height + 0.5 && box.x >= 0 && box.x + box.width <= PHONE.width + 0.5, `the bar is on screen: ${JSON.stringify(box)}`);

    const file = `/tmp/uwsb-phone-${randomBytes(6).toString('hex')}.txt`;
    t.after(() => rmSync(file, { force: true }));
    await page.locator('#terminal').tap();
    await softType(page, `vim ${file}`, true);
    await waitForScreen(page, /\[New\]/, 20_000);
    await softType(page, 'i');
    await waitForScreen(page, '-- INSERT --', 15_000);
    await softType(page, 'world');
    for (let i = 0; i < 5; i++) await tapKey(page, 'Left'); // vim asked for application cursor keys: ESC O D
    await softType(page, 'hello ');
    for (let i = 0; i < 5; i++) await tapKey(page, 'Right');
    for (const key of ['Tab', '|', '~', '/', '-']) await tapKey(page, key);
    await waitForScreen(page, /^hello world\s+\|~\/-$/m, 15_000);
    await saveScreenshot(page, 'phone-terminal');
    await tapKey(page, 'Esc');
    await waitForPage(page, (s) => !s.screen.includes('-- INSERT --'), 'vim leaving insert mode', 15_000);
    await softType(page, ':wq', true);
    await waitForScreen(page, new RegExp(`${PROMPT.replace('$', '\\$')}\\s*$`), 20_000);
    assert.equal(readFileSync(file, 'utf8'), 'hello world\t|~/-\n', 'the file holds exactly what was typed');

    // Sticky Ctrl from the bar + "u" from the keyboard is Ctrl+U: the half-typed line is gone.
    await softType(page, 'echo DISCARDED-LINE');
    await tapKey(page, 'Ctrl');
    assert.equal(await bar.getByRole('button', { name: 'Ctrl', exact: true }).getAttribute('aria-pressed'), 'true', 'Ctrl shows it is armed');
    await softType(page, 'u');
    await waitForPage(page, (s) => !s.screen.includes('DISCARDED-LINE'), 'Ctrl+U to clear the line', 15_000);
    assert.equal(await bar.getByRole('button', { name: 'Ctrl', exact: true }).getAttribute('aria-pressed'), 'false', 'one key used it up');
    // Sticky Alt + "." is readline's yank-last-arg: `cat ` + the file vim edited. Through the shell:
    await softType(page, 'clear; cat ');
    await tapKey(page, 'Alt');
    await softType(page, '.', true);
    await waitForScreen(page, /^hello world\s+\|~\/-$/m, 15_000);
    assert.ok(!(await page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.screenText() ?? '')).includes('DISCARDED-LINE'), 'the discarded line never ran');
    // The Up arrow brings the command back.
    await softType(page, 'clear');
    await page.keyboard.press('Enter');
    await waitForPage(page, (s) => !s.screen.includes('hello world'), 'a cleared screen', 15_000);
    await tapKey(page, 'Up');
    await tapKey(page, 'Up');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /^hello world\s+\|~\/-$/m, 15_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the toolbar folds into More: Theme, Share and Disconnect stay reachable, the status stays readable', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(TOKEN)}`, PHONE);
    await loginInPage(page, env.sshd);
    await page.locator('#recordings-link').waitFor({ state: 'attached' });
    assert.equal(await page.locator('#recordings-link').getAttribute('hidden'), null, 'gateway auth with recording: the toolbar offers Recordings');
    await reach(page, 'Share');
    await page.getByRole('dialog', { name: 'Share this session' }).getByRole('button', { name: 'Close', exact: true }).tap();
    await until(page, async () => (await page.locator('#watchers-btn').getAttribute('hidden')) === null, '"0 watching" shown', 15_000);

    const layout = await page.evaluate(() => {
      const g = globalThis as unknown as Globals;
      const tools = Array.from(g.document.querySelectorAll('#toolbar .tool, #more-menu .tool'))
        .filter((el) => el.getClientRects().length > 0 || el.closest('#more-menu') !== null)
        .filter((el) => !el.hidden && g.getComputedStyle(el).display !== 'none')
        .map((el) => ({ id: el.id, inMenu: el.closest('#more-menu') !== null, right: el.getBoundingClientRect().right }));
      const status = g.document.getElementById('status');
      const state = g.document.querySelector('#status .status-state') as unknown as Box | null;
      return {
        width: g.innerWidth,
        tools,
        status: status === null ? null : { width: status.getBoundingClientRect().width, right: status.getBoundingClientRect().right },
        state: state === null ? null : { text: state.textContent, right: state.getBoundingClientRect().right, left: state.getBoundingClientRect().left },
      };
    });
    const ids = layout.tools.map((x) => x.id);
    for (const id of ['recordings-link', 'watchers-btn', 'share-btn', 'disconnect-btn', 'theme-btn']) assert.ok(ids.includes(id), `${id} is shown somewhere: ${JSON.stringify(layout.tools)}`);
    for (const tool of layout.tools.filter((x) => !x.inMenu)) assert.ok(tool.right <= layout.width + 0.5, `${tool.id} is on screen (right ${tool.right} of ${layout.width})`);
    assert.ok(layout.tools.some((x) => x.inMenu), `some tools folded into the menu: ${JSON.stringify(layout.tools)}`);
    assert.ok(await page.getByRole('button', { name: 'More tools', exact: true }).isVisible(), 'the More button is shown');
    assert.ok(layout.status !== null && layout.status.width >= 100, `the status line keeps room: ${JSON.stringify(layout.status)}`);
    assert.ok(layout.state !== null && layout.status !== null && layout.state.text === 'connected' && layout.state.right <= layout.status.right + 0.5,
      `the state is whole and on screen: ${JSON.stringify(layout)}`);

    const themeOf = (): Promise<string | null> => page.evaluate(() => (globalThis as unknown as Globals).document.documentElement.getAttribute('data-theme'));
    const before = await themeOf();
    await reach(page, `Switch to ${before === 'dark' ? 'light' : 'dark'} theme`);
    assert.notEqual(await themeOf(), before, 'Theme works from the toolbar or its menu');
    assert.ok(!(await page.getByRole('group', { name: 'More tools' }).isVisible()), 'a choice closes the menu');

    await reach(page, 'Disconnect');
    const ask = page.getByRole('dialog', { name: 'Disconnect?' });
    await ask.waitFor({ state: 'visible' });
    await ask.getByRole('button', { name: 'Disconnect', exact: true }).tap();
    await waitForState(page, 'closed', 15_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the changed-host-key warning: a title, each fingerprint on its own line in monospace, then what to do; nothing overflows', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { bridge: tofu, stored } = await changedKeyBridge(t, env.sshd);
    const { page, errors } = await openTestPage(t, env.browser, `${tofu.url}/`, PHONE);
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await login(page, { host: env.sshd.host, port: env.sshd.port, username: env.sshd.username, password: env.sshd.password });
    await waitForPage(page, (s) => /host key .* has changed/i.test(s.error ?? ''), 'the changed-host-key warning', 30_000);

    const alert = await page.evaluate(() => {
      const g = globalThis as unknown as Globals;
      const box = g.document.getElementById('error');
      if (box === null) return null;
      const outer = box.getBoundingClientRect();
      const lines = Array.from(g.document.querySelectorAll('#error > *')).map((el) => ({
        tag: el.tagName.toLowerCase(), text: el.textContent ?? '', left: el.getBoundingClientRect().left, right: el.getBoundingClientRect().right, top: el.getBoundingClientRect().top,
      }));
      const codes = Array.from(g.document.querySelectorAll('#error code')).map((el) => ({
        text: el.textContent ?? '', font: g.getComputedStyle(el).fontFamily, left: el.getBoundingClientRect().left, right: el.getBoundingClientRect().right, top: el.getBoundingClientRect().top,
      }));
      return { outer, lines, codes, scrollWidth: box.scrollWidth, clientWidth: box.clientWidth, viewport: g.innerWidth, height: g.innerHeight };
    });
    assert.ok(alert !== null, 'the alert is there');
    const dump = JSON.stringify(alert);
    assert.match(alert.lines[0]?.text ?? '', /^WARNING: the host key of 127\.0\.0\.1:\d+ has changed\.$/, `the title comes first: ${dump}`);
    assert.deepEqual(alert.codes.map((c) => c.text), [stored, env.sshd.hostKeyFingerprint], `the stored, then the presented fingerprint, each in a code element: ${dump}`);
    for (const code of alert.codes) assert.match(code.font, /monospace/, 'a fingerprint is in a monospace font');
    const [first, second] = alert.codes;
    assert.ok(first !== undefined && second !== undefined && second.top > first.top, `each fingerprint on a line of its own: ${dump}`);
    assert.match(alert.lines.at(-1)?.text ?? '', /administrator/, `what to do comes last: ${dump}`);
    assert.ok(alert.scrollWidth <= alert.clientWidth, `nothing overflows the box sideways: ${dump}`);
    for (const part of [...alert.lines, ...alert.codes]) {
      assert.ok(part.left >= alert.outer.left - 0.5 && part.right <= alert.outer.right + 0.5, `inside the box: ${JSON.stringify(part)} in ${JSON.stringify(alert.outer)}`);
    }
    assert.ok(alert.outer.right <= alert.viewport + 0.5, `the box is on screen: ${dump}`);
    assert.ok(alert.outer.top >= 0 && alert.outer.bottom <= alert.height + 0.5, `the card scrolled the whole warning into view: ${dump}`);
    assert.deepEqual(errors, [], 'no console or page errors');
  });
});
