/**
 * The idle warning on the page (issue 13, item 1), in headless Chromium against the real bridge
 * and a real OpenSSH sshd, with a short idle timeout: the warning appears as a countdown banner
 * before the close, a key takes it back, so does "I'm here"; left alone, the session ends with
 * the idle sentence, written on the shell's own screen, not over vim's.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { assertAxeClean, assertKeyboardReachable } from '../helpers/a11y.js';
import { describePage, focusTerminal, snapshot, typeLine, until, waitForScreen } from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';

const banner = (page: Page): Promise<boolean> => page.locator('#idle-banner').isVisible();

void describe('page: the idle warning in Chromium against a real sshd', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure', '--session-idle-timeout', '10s', '--session-idle-warning', '5s'] });

  void it('warns with a countdown, a key or "I\'m here" keeps the session, and left alone it ends with the idle sentence outside vim', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(page, env.sshd);

    await until(page, () => banner(page), 'the idle banner', 30_000);
    assert.match(await page.locator('#idle-text').innerText(), /closes in \d+ s/);
    // A key is activity: the gateway takes the warning back.
    await focusTerminal(page);
    await page.keyboard.press('Space');
    await until(page, async () => !(await banner(page)), 'the banner to go after a key', 15_000);

    await until(page, () => banner(page), 'the second idle banner', 30_000);
    await page.getByRole('button', { name: "I'm here" }).click();
    await until(page, async () => !(await banner(page)), 'the banner to go after "I\'m here"', 15_000);
    assert.equal((await snapshot(page)).state, 'connected');

    // Into vim, then nothing: the session ends, and its last words are on the shell's screen.
    await page.keyboard.press('Backspace');
    await typeLine(page, 'vim -u NONE /tmp/uwsb-idle-test.txt');
    await waitForScreen(page, /uwsb-idle-test\.txt/, 20_000);
    await page.keyboard.type('iunsaved words');
    await until(page, async () => (await snapshot(page)).state === 'closed', 'the idle close', 60_000);
    const end = await snapshot(page);
    assert.match(end.error ?? '', /idle/i, `the notice names the idle timeout; ${await describePage(page)}`);
    assert.equal(await banner(page), false, 'the banner goes with the session');
    const bufferType = await page.evaluate(() => (globalThis as unknown as { __uwsb?: { term: { buffer: { active: { type: string } } } } }).__uwsb?.term.buffer.active.type);
    assert.equal(bufferType, 'normal', 'vim\'s screen was left before the note was written');
    assert.match(end.screen, /idle/i, 'the note is on the shell\'s screen');
    assert.deepEqual(errors, []);
  });
});

void describe('page: the idle warning is accessible', () => {
  // A long warning (at most half the timeout), so the banner stays up while axe-core looks at it.
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure', '--session-idle-timeout', '30s', '--session-idle-warning', '15s'] });

  void it('the banner passes axe, announces itself as an alert and "I\'m here" is reachable by keyboard', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(page, env.sshd);
    await until(page, () => banner(page), 'the idle banner', 30_000);
    assert.equal(await page.locator('#idle-banner').getAttribute('role'), 'alert');
    await assertAxeClean(page, 'the idle banner');
    // Onto the button from the keyboard (a focus() alone would not show the focus ring).
    await page.getByRole('button', { name: "I'm here" }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    await assertKeyboardReachable(page, 'the idle banner', '#idle-banner');
    await page.keyboard.press('Enter');
    await until(page, async () => !(await banner(page)), 'the banner to go after "I\'m here" from the keyboard', 15_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });
});
