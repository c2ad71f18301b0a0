/**
 * The page's second pass (issue 13) on a desktop viewport, in headless Chromium against the real
 * bridge and a real OpenSSH sshd:
 *
 * - no lost work: leaving a live session asks first (beforeunload); Disconnect asks (Escape
 *   cancels, Enter confirms) and does not sit next to the theme toggle; a tab closed by accident
 *   and reopened within the grace period resumes and says so;
 * - the login loop: the wait says what it waits for, a refused password is selected, the card
 *   does not move when the error appears;
 * - smaller things: copy on select confirms; back from the recordings view the keyboard is in the
 *   terminal; search has case, whole-word and regular-expression toggles; font family, cursor
 *   style and scrollback are settings that persist; the session's output downloads as a text log.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  describePage, login, typeLine, until, waitForPage, waitForScreen, waitForState, type PageGlobals, type UwsbHooks,
} from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';

const META_KEY = 'webssh-bridge.resume';
const SCREEN_KEY = 'webssh-bridge.resumeScreen';

interface Rect { x: number; y: number; width: number; height: number }
interface El {
  readonly id: string;
  readonly className: string;
  readonly textContent: string | null;
  readonly value?: string;
  readonly selectionStart?: number | null;
  readonly selectionEnd?: number | null;
  getBoundingClientRect(): Rect;
  getClientRects(): ArrayLike<Rect>;
}
/** The browser globals used here (the Node project has no DOM lib). */
interface Globals extends Omit<PageGlobals, '__uwsb' | 'document'> {
  readonly __uwsb?: UwsbHooks & {
    resumeCount(): number;
    readonly term: UwsbHooks['term'] & { select(col: number, row: number, length: number): void; readonly options: Record<string, unknown> };
  };
  readonly document: { readonly activeElement: El | null; getElementById(id: string): El | null; querySelectorAll(s: string): ArrayLike<El> };
  readonly sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void };
  readonly localStorage: { getItem(k: string): string | null };
  readonly navigator: { clipboard: { readText(): Promise<string> } };
  readonly location: { hash: string };
  __seen?: string[];
}

const activeId = (page: Page): Promise<{ id: string; cls: string }> => page.evaluate(() => {
  const el = (globalThis as unknown as Globals).document.activeElement;
  return { id: el?.id ?? '', cls: el?.className ?? '' };
});
const inTerminal = async (page: Page): Promise<boolean> => (await activeId(page)).cls.includes('xterm-helper-textarea');
const toastText = async (page: Page): Promise<string> => (await page.locator('#toast').textContent()) ?? '';

/** Record every text the notice's info line shows from now on (polling could miss a short one). */
function recordInfoLine(): void {
  const g = globalThis as unknown as Globals & { MutationObserver: new (cb: () => void) => { observe(target: unknown, opts: object): void }; document: { getElementById(id: string): El | null } };
  const seen: string[] = [];
  g.__seen = seen;
  new g.MutationObserver(() => {
    const text = g.document.getElementById('info')?.textContent ?? '';
    if (text !== '' && !seen.includes(text)) seen.push(text);
  }).observe(g.document, { subtree: true, childList: true, characterData: true });
}
const infoSeen = (page: Page): Promise<string[]> => page.evaluate(() => (globalThis as unknown as Globals).__seen ?? []);

void describe('page: no lost work, the login loop and the smaller things (issue 13)', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

  void it('leaving a live session asks first; Disconnect asks (Escape cancels, Enter confirms) and is not next to the theme toggle', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, context, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(page, env.sshd);
    await typeLine(page, 'echo live-$((5*5))');
    await waitForScreen(page, 'live-25', 15_000);

    const neighbours = await page.evaluate(() => {
      const g = globalThis as unknown as Globals;
      const shown = Array.from(g.document.querySelectorAll('.toolbar .tools > *')).filter((el) => el.getClientRects().length > 0).map((el) => el.id);
      const i = shown.indexOf('disconnect-btn');
      return { shown, around: [shown[i - 1] ?? '', shown[i + 1] ?? ''] };
    });
    assert.ok(neighbours.shown.includes('disconnect-btn') && neighbours.shown.includes('theme-btn'), `both are in the toolbar: ${JSON.stringify(neighbours)}`);
    assert.ok(!neighbours.around.includes('theme-btn'), `Disconnect is not next to the theme toggle: ${JSON.stringify(neighbours)}`);

    // Closing the tab asks; staying keeps the session.
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.type());
      void d.dismiss();
    });
    await page.close({ runBeforeUnload: true });
    await until(page, () => Promise.resolve(dialogs.length > 0), 'the "leave this page?" prompt', 15_000);
    assert.deepEqual(dialogs, ['beforeunload']);
    assert.ok(!page.isClosed(), 'staying keeps the page');
    await typeLine(page, 'echo still-$((6*6))');
    await waitForScreen(page, 'still-36', 15_000);

    // Disconnect asks: Escape cancels (the keyboard is back in the terminal), Enter confirms.
    const ask = page.getByRole('dialog', { name: 'Disconnect?' });
    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    await ask.waitFor({ state: 'visible' });
    assert.equal((await activeId(page)).id, 'confirm-ok', 'the dialog\'s Disconnect has the focus: Enter confirms');
    await page.keyboard.press('Escape');
    await ask.waitFor({ state: 'hidden' });
    assert.equal((await page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.state())), 'connected', 'Escape cancels');
    await until(page, () => inTerminal(page), 'the keyboard back in the terminal', 5_000);
    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    await ask.waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await waitForState(page, 'closed', 15_000);

    // Nothing left to lose: the tab closes without asking.
    const closed = new Promise<void>((resolve) => page.once('close', () => resolve()));
    await page.close({ runBeforeUnload: true });
    await closed;
    assert.deepEqual(dialogs, ['beforeunload'], 'no second prompt');
    assert.deepEqual(errors, [], 'no console or page errors');
    await context.close();
  });

  void it('a tab closed by accident and reopened within the grace period resumes the session and says so', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const first = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(first.page, env.sshd);
    await typeLine(first.page, 'echo before-close-$((2+2))');
    await waitForScreen(first.page, 'before-close-4', 15_000);
    const record = (): Promise<{ meta: string | null; screen: string | null }> => first.page.evaluate(([m, s]) => {
      const st = (globalThis as unknown as Globals).sessionStorage;
      return { meta: st.getItem(m ?? ''), screen: st.getItem(s ?? '') };
    }, [META_KEY, SCREEN_KEY]);
    await until(first.page, async () => (await record()).meta !== null, 'the resume record', 15_000);
    const saved = await record();
    await first.page.close(); // no prompt: closed by accident

    // The reopened tab gets its sessionStorage back, as a browser's "reopen closed tab" does.
    const second = await openTestPage(t, env.browser, 'about:blank');
    await second.page.addInitScript(([m, s, meta, screen]) => {
      const st = (globalThis as unknown as Globals).sessionStorage;
      if (st.getItem(m ?? '') === null) {
        st.setItem(m ?? '', meta ?? '');
        st.setItem(s ?? '', screen ?? '');
      }
    }, [META_KEY, SCREEN_KEY, saved.meta, saved.screen]);
    await second.page.addInitScript(recordInfoLine);
    await second.page.goto(`${env.bridge.url}/`, { waitUntil: 'load' });
    await waitForState(second.page, 'connected', 30_000);
    await until(second.page, async () => (await second.page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.resumeCount() ?? 0)) === 1, 'one resume', 15_000);
    const who = `${env.sshd.username}@127.0.0.1:${env.sshd.port}`;
    const said = await infoSeen(second.page);
    assert.ok(said.some((s) => s.startsWith(`Resuming your session with ${who}: the gateway keeps it for about `)), `while resuming it said what and for how long: ${JSON.stringify(said)}`);
    await until(second.page, async () => (await toastText(second.page)).includes(`Session with ${who} resumed`), 'the "session resumed" message', 15_000);
    await typeLine(second.page, 'echo after-reopen-$((3+3))');
    await waitForScreen(second.page, 'after-reopen-6', 15_000);
    assert.ok(!(await second.page.locator('#connect-screen').isVisible()), 'no login form');
    assert.deepEqual([...first.errors, ...second.errors], [], 'no console or page errors');
  });

  void it('a wrong password: the wait says what it waits for, the password is selected, the card does not move', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await page.evaluate(recordInfoLine);
    const boxes = (): Promise<{ card: Rect; password: Rect; connect: Rect }> => page.evaluate(() => {
      const d = (globalThis as unknown as Globals).document;
      const rect = (id: string): Rect => {
        const r = d.getElementById(id)?.getBoundingClientRect();
        return { x: r?.x ?? -1, y: r?.y ?? -1, width: r?.width ?? -1, height: r?.height ?? -1 };
      };
      return { card: rect('card'), password: rect('password'), connect: rect('connect-btn') };
    });
    const before = await boxes();
    const wrong = 'definitely-Wrong-pw-13';
    await login(page, { host: env.sshd.host, port: env.sshd.port, username: env.sshd.username, password: wrong });
    await waitForPage(page, (s) => /authentication failed/i.test(s.error ?? ''), 'the authentication failure', 30_000);
    const said = await infoSeen(page);
    assert.ok(said.includes(`Checking the password with 127.0.0.1:${env.sshd.port}…`), `the wait said what it waits for: ${JSON.stringify(said)}`);
    const selection = await page.evaluate(() => {
      const el = (globalThis as unknown as Globals).document.activeElement;
      return { id: el?.id ?? '', start: el?.selectionStart ?? null, end: el?.selectionEnd ?? null, length: el?.value?.length ?? -1 };
    });
    assert.deepEqual(selection, { id: 'password', start: 0, end: wrong.length, length: wrong.length }, 'the refused password is focused and selected: typing replaces it');
    assert.deepEqual(await boxes(), before, 'the card, the password field and Connect did not move');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('copy on select confirms; back from the recordings view the keyboard is in the terminal', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, context, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.bridge.url });
    await loginInPage(page, env.sshd);
    await typeLine(page, 'clear; echo copy-me-$((3+4))');
    await waitForScreen(page, /^copy-me-7$/m, 15_000);
    await page.evaluate(() => {
      const h = (globalThis as unknown as Globals).__uwsb;
      const lines = (h?.screenText() ?? '').split('\n');
      const row = lines.indexOf('copy-me-7');
      h?.term.select(0, row, 'copy-me-7'.length);
    });
    await until(page, async () => (await toastText(page)) === 'Copied to the clipboard.', 'the copy confirmation', 10_000);
    assert.equal(await page.evaluate(() => (globalThis as unknown as Globals).navigator.clipboard.readText()), 'copy-me-7');

    await page.evaluate(() => { (globalThis as unknown as Globals).location.hash = '#recordings'; });
    await page.locator('#recordings-screen').waitFor({ state: 'visible' });
    await page.getByRole('link', { name: 'Back to the terminal' }).click();
    await page.locator('#recordings-screen').waitFor({ state: 'hidden' });
    await until(page, () => inTerminal(page), `the keyboard in the terminal (focus on ${JSON.stringify(await activeId(page))})`, 5_000);
    await page.keyboard.type('echo back-$((1+1))\n'); // no click: straight to the shell
    await waitForScreen(page, /^back-2$/m, 15_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('search has Match case, Match whole word and Use regular expression toggles', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(page, env.sshd);
    await typeLine(page, 'clear; echo F""oo f""oo F""OO f""ood');
    await waitForScreen(page, /^Foo foo FOO food$/m, 15_000);
    await page.keyboard.press('Control+Shift+F');
    const input = page.getByLabel('Find in terminal');
    await input.fill('foo');
    const count = page.locator('#search-count');
    const expectCount = async (re: RegExp, what: string): Promise<void> => {
      await until(page, async () => re.test((await count.textContent()) ?? ''), `${what} (count ${re})`, 10_000);
    };
    await expectCount(/ of 4$/, 'any case: Foo foo FOO food');
    const toggle = async (name: string, on: boolean): Promise<void> => {
      const button = page.getByRole('button', { name, exact: true });
      await button.click();
      assert.equal(await button.getAttribute('aria-pressed'), String(on), `${name} pressed: ${on}`);
    };
    await toggle('Match case', true);
    await expectCount(/ of 2$/, 'case: foo food');
    await toggle('Match whole word', true);
    await expectCount(/^1 of 1$/, 'case and whole word: foo');
    await toggle('Match case', false);
    await toggle('Match whole word', false);
    await toggle('Use regular expression', true);
    await input.fill('F.O');
    await expectCount(/ of 4$/, 'a regular expression, any case');
    await toggle('Match case', true);
    await expectCount(/^1 of 1$/, 'a regular expression with case: FOO');
    await input.fill('F(');
    await expectCount(/^Invalid pattern$/, 'an invalid regular expression says so');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('font family, cursor style and scrollback are settings that apply and persist', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    const options = (): Promise<Record<string, unknown>> => page.evaluate(() => {
      const o = (globalThis as unknown as Globals).__uwsb?.term.options ?? {};
      return { fontFamily: o['fontFamily'], cursorStyle: o['cursorStyle'], scrollback: o['scrollback'] };
    });
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const panel = page.getByRole('dialog', { name: 'Settings' });
    await panel.getByLabel('Font family').selectOption({ label: 'DejaVu Sans Mono' });
    await panel.getByLabel('Cursor style').selectOption({ label: 'Underline' });
    await panel.getByLabel('Scrollback (lines kept)').selectOption({ label: '50,000' });
    assert.deepEqual(await options(), { fontFamily: '"DejaVu Sans Mono", monospace', cursorStyle: 'underline', scrollback: 50000 }, 'the terminal took them at once');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.equal((await activeId(page)).id, 'settings-btn', 'Escape closes the panel, the focus back on Settings');

    await page.reload({ waitUntil: 'load' });
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    assert.deepEqual(await options(), { fontFamily: '"DejaVu Sans Mono", monospace', cursorStyle: 'underline', scrollback: 50000 }, 'remembered across a reload');
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    assert.equal(await panel.getByLabel('Cursor style').inputValue(), 'underline', 'the panel shows the stored choice');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the session\'s output downloads as a text log, history included', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(page, env.sshd);
    await typeLine(page, 'seq 1 300; echo log-$((4*4))');
    await waitForScreen(page, /^log-16$/m, 15_000);
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 15_000 }),
      page.getByRole('button', { name: 'Download the session log', exact: true }).click(),
    ]);
    assert.match(download.suggestedFilename(), new RegExp(`^webssh-${env.sshd.username}@127\\.0\\.0\\.1-${env.sshd.port}-\\d{8}-\\d{6}\\.txt$`));
    const path = await download.path();
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    const first = lines.indexOf('1');
    assert.ok(first >= 0, `the log starts the seq output: ${text.slice(0, 300)}`);
    assert.deepEqual(lines.slice(first, first + 300), Array.from({ length: 300 }, (_, i) => String(i + 1)), 'every line, also those scrolled out of view');
    assert.ok(lines.includes('log-16') && text.includes('uwsb$ seq 1 300; echo log-$((4*4))'), `the commands and output: ${text.slice(-300)}`);
    assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), 'no trailing empty lines');
    assert.deepEqual(errors, [], `no console or page errors; ${await describePage(page)}`);
  });
});
