/**
 * The page's second pass (issue 13) on a desktop viewport, in headless Chromium against the real
 * bridge and a real OpenSSH sshd:
 *
 * - the login loop: the wait says what it waits for, a refused password is selected, the card
 *   does not move when the error appears.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { login, waitForPage, type PageGlobals } from '../helpers/browser.js';
import { openTestPage, usePageFixture } from '../helpers/page-fixture.js';

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
interface Globals extends Omit<PageGlobals, 'document'> {
  readonly document: { readonly activeElement: El | null; getElementById(id: string): El | null; querySelectorAll(s: string): ArrayLike<El> };
  __seen?: string[];
}

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

void describe('page: the login loop (issue 13)', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

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
});
