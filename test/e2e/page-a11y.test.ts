/**
 * Accessibility of the page, in headless Chromium against the real bridge and a real OpenSSH
 * sshd (and the in-process SSH server for keyboard-interactive questions): axe-core
 * (@axe-core/playwright, injected by the test, never by the page) finds no serious or critical
 * violation on the connect form (also with an error shown), the terminal page, the share panel,
 * the recordings view and its player dialog, the "Unknown host key" dialog, the changed-key
 * warning, the keyboard-interactive dialog and a viewer's page for a dead link; and Tab reaches
 * every control of each, each showing where the focus is (helpers/a11y.ts). The terminal keeps
 * Tab for the shell, so on the terminal page Tab goes through the toolbar and ends there.
 *
 * The states it visits are also photographed (helpers/screenshots.ts): form, share-panel,
 * recordings, recordings-player, hostkey-question, hostkey-warning.
 *
 * The Settings panel, the Disconnect question, the form's recent hosts and profiles (with a
 * stored key, Rename, Save as profile keeping a key) and the empty password's question, the
 * sessions strip of two sessions in the split view (photographed: tabs-split) with its close
 * question, the Files panel with its name dialog and name-conflict question, and on a phone the extra-keys bar and the More menu have theirs too. A dialog added
 * later gets its own `it` here: open it, then
 * `assertAxeClean` and `assertKeyboardReachable` on its element.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { assertAxeClean, assertKeyboardReachable, tabThrough } from '../helpers/a11y.js';
import { login, typeLine, until, waitForPage, waitForState } from '../helpers/browser.js';
import { changedKeyBridge, loginInPage, openTestPage, startTofuBridge, usePageFixture } from '../helpers/page-fixture.js';
import { saveScreenshot } from '../helpers/screenshots.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh } from '../helpers/ssh-server.js';

const ADMIN = registerSecret(`a11y-admin-${randomBytes(18).toString('base64url')}`);
const RECORD_DIR = mkdtempSync(join(tmpdir(), 'uwsb-a11y-rec-'));
const KI_ANSWER = registerSecret('a11y-Ki-answer-77');

/** The page with the operator's token taken from the fragment (then removed by the page). */
const withToken = (base: string, rest = ''): string => `${base}/#token=${encodeURIComponent(ADMIN)}${rest}`;

void describe('page: accessibility (axe), keyboard reach and screenshots', () => {
  const { ready } = usePageFixture({
    flags: ['--host-key-policy', 'accept-new-insecure', '--record-dir', join(RECORD_DIR, 'casts')],
    tokens: { ops: ADMIN },
    admins: ['ops'],
  });
  after(() => rmSync(RECORD_DIR, { recursive: true, force: true }));

  void it('the connect form, also with an error shown', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await saveScreenshot(page, 'form');
    await assertAxeClean(page, 'the connect form');
    // Both palettes: the theme button switches the page (and the terminal) to the other one.
    const other = page.locator('#theme-btn');
    await other.click();
    assert.notEqual(await page.locator('html').getAttribute('data-theme'), 'light', 'the other palette');
    await assertAxeClean(page, 'the connect form, other theme');
    await other.click();
    await assertKeyboardReachable(page, 'the connect form', '#app', { fromTop: true });
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null, 'an error in the form', 10_000);
    await assertAxeClean(page, 'the connect form with an error');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the connect form with recent hosts, profiles, a stored key, the save panel and the empty password question', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    // A sealed key of the stored shape (key-vault.ts): the page only shows that it is there.
    const b64 = (n: number): string => Buffer.alloc(n, 9).toString('base64');
    const sealed = { v: 1, iterations: 600_000, salt: b64(16), iv: b64(12), data: b64(80) };
    await page.evaluate(([recent, profiles]) => {
      const st = (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage;
      st.setItem('webssh-bridge.recent', recent);
      st.setItem('webssh-bridge.profiles', profiles);
    }, [JSON.stringify([
      { host: 'db1.example.com', port: 22, username: 'alice', method: 'password' },
      { host: '10.0.0.7', port: 2222, username: 'deploy', method: 'publickey' },
      { host: 'bastion', port: 22, username: 'root', method: 'keyboard-interactive' },
    ]), JSON.stringify([
      { name: 'prod', host: 'db1.example.com', port: 22, username: 'alice', method: 'password' },
      { name: 'deploy', host: '10.0.0.7', port: 2222, username: 'deploy', method: 'publickey', key: sealed },
    ])] as const);
    await page.reload();
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await page.getByRole('group', { name: 'Recent' }).waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the form with Recent and Profile');
    await assertKeyboardReachable(page, 'the form with Recent and Profile', '#connect-form', { fromTop: true });

    // A profile with a stored key, its rename field and the save panel (which keeps the key).
    await page.getByLabel('Profile', { exact: true }).selectOption('deploy');
    await page.getByLabel('Storage passphrase', { exact: true }).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Rename', exact: true }).click();
    await page.getByRole('button', { name: 'Save as profile…', exact: true }).click();
    await assertAxeClean(page, 'the form with a stored key, Rename and Save as profile');
    await assertKeyboardReachable(page, 'the form with a stored key, Rename and Save as profile', '#connect-form', { fromTop: true });

    // A key typed in the form, to be kept: the box and the storage passphrase.
    await page.getByRole('group', { name: 'Recent' }).getByRole('button', { name: 'deploy@10.0.0.7:2222 (key)', exact: true }).click();
    await page.getByLabel('Keep this key in this browser, encrypted', { exact: true }).check();
    await page.getByLabel('Choose a storage passphrase', { exact: true }).waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the save panel keeping a key');
    await assertKeyboardReachable(page, 'the save panel keeping a key', '#profile-save');

    // The empty password's question.
    await page.getByRole('group', { name: 'Save as profile' }).getByRole('button', { name: 'Cancel', exact: true }).click();
    await page.getByRole('group', { name: 'Recent' }).getByRole('button', { name: 'alice@db1.example.com:22', exact: true }).click();
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('button', { name: 'Log in with an empty password', exact: true }).waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the empty password question');
    await assertKeyboardReachable(page, 'the empty password question', '#connect-form', { fromTop: true });
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the terminal page and the share panel', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url));
    await loginInPage(page, env.sshd);
    await assertAxeClean(page, 'the terminal page');
    const stops = await assertKeyboardReachable(page, 'the toolbar', '.toolbar', { fromTop: true });
    assert.match(stops.at(-1)?.desc ?? '', /^textarea "Terminal input"$/, `Tab ends in the terminal: ${stops.map((s) => s.desc).join(', ')}`);

    await page.getByRole('button', { name: 'Share', exact: true }).click();
    const panel = page.getByRole('dialog', { name: 'Share this session' });
    await panel.getByLabel('View link', { exact: true }).waitFor({ state: 'visible', timeout: 20_000 });
    await saveScreenshot(page, 'share-panel');
    await assertAxeClean(page, 'the share panel');
    await assertKeyboardReachable(page, 'the share panel', '#share-panel');

    // Closed with Escape and opened again from the keyboard: the focus goes into the panel.
    await panel.getByRole('button', { name: 'Close', exact: true }).focus();
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Share', exact: true }).press('Enter');
    await panel.waitFor({ state: 'visible' });
    assert.equal(await panel.evaluate((p) => p.contains((globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement as never)), true, 'the focus is in the panel');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the recordings view and its player dialog', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url));
    await loginInPage(page, env.sshd);
    await typeLine(page, 'echo recorded-for-the-player; exit');
    await waitForState(page, 'closed', 20_000);
    await page.getByRole('link', { name: 'Recordings' }).click();
    const play = page.locator('#recordings-body tr').first().getByRole('button', { name: /^Play / });
    await play.waitFor({ state: 'visible', timeout: 20_000 });
    await saveScreenshot(page, 'recordings');
    await assertAxeClean(page, 'the recordings view');
    await assertKeyboardReachable(page, 'the recordings view', '#recordings-screen', { fromTop: true });

    await play.click();
    const dialog = page.getByRole('dialog');
    await page.locator('#recordings-player .ap-control-bar').waitFor({ state: 'visible', timeout: 20_000 });
    const term = page.locator('#recordings-player .ap-term');
    await until(page, async () => (await term.innerText()).includes('recorded-for-the-player'), 'the recording played', 20_000);
    await saveScreenshot(page, 'recordings-player');
    await assertAxeClean(page, 'the player dialog', '#player-dialog');
    await assertKeyboardReachable(page, 'the player dialog', '#player-dialog .player-head');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the "Unknown host key" dialog and the changed-key warning', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const target = { host: env.sshd.host, port: env.sshd.port, username: env.sshd.username, password: env.sshd.password };
    const { bridge: tofu } = await startTofuBridge(t);
    const asked = await openTestPage(t, env.browser, `${tofu.url}/`);
    await login(asked.page, target);
    const dialog = asked.page.getByRole('dialog', { name: 'Unknown host key' });
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    await saveScreenshot(asked.page, 'hostkey-question');
    await assertAxeClean(asked.page, 'the host key dialog');
    await assertKeyboardReachable(asked.page, 'the host key dialog', '#hostkey-dialog');
    assert.deepEqual(asked.errors, [], 'no console or page errors');

    const { bridge: changed } = await changedKeyBridge(t, env.sshd);
    const warned = await openTestPage(t, env.browser, `${changed.url}/`);
    await login(warned.page, target);
    await waitForPage(warned.page, (s) => /attack/i.test(s.error ?? ''), 'the changed-key warning', 20_000);
    await saveScreenshot(warned.page, 'hostkey-warning');
    await assertAxeClean(warned.page, 'the changed-key warning');
    assert.deepEqual(warned.errors, [], 'no console or page errors');
  });

  void it('the Disconnect question and the Settings panel', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url));
    await loginInPage(page, env.sshd);
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const settings = page.getByRole('dialog', { name: 'Settings' });
    await settings.waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the Settings panel');
    await assertKeyboardReachable(page, 'the Settings panel', '#settings-panel');
    await settings.getByRole('button', { name: 'Close', exact: true }).click();

    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    const ask = page.getByRole('dialog', { name: 'Disconnect?' });
    await ask.waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the Disconnect question');
    await assertKeyboardReachable(page, 'the Disconnect question', '#confirm-dialog');
    await page.keyboard.press('Escape');
    await ask.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the Files panel, its name dialog and its name-conflict question', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url));
    await loginInPage(page, env.sshd);
    await page.getByRole('button', { name: 'Files', exact: true }).click();
    const panel = page.getByRole('dialog', { name: 'Files' });
    await panel.waitFor({ state: 'visible' });
    await until(page, async () => (await page.getByLabel('Folder', { exact: true }).inputValue()).startsWith('/'), 'the login directory listed', 20_000);
    await page.getByLabel('Show hidden').check();
    await page.locator('#files-body tr[data-name=".bashrc"]').waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the Files panel');
    // The walk starts on the panel's first control, reached by the keyboard (so its focus shows).
    await page.locator('#files-path').focus();
    await page.keyboard.press('Shift+Tab');
    await assertKeyboardReachable(page, 'the Files panel', '#files-panel');

    await page.getByRole('button', { name: 'New folder' }).click();
    const name = page.getByRole('dialog', { name: 'New folder' });
    await name.waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the Files name dialog');
    await assertKeyboardReachable(page, 'the Files name dialog', '#files-name-dialog');
    await page.keyboard.press('Escape');
    await name.waitFor({ state: 'hidden' });

    // An upload whose name exists asks first (Escape skips it: nothing is sent).
    await page.locator('#files-input').setInputFiles([{ name: '.bashrc', mimeType: 'text/plain', buffer: Buffer.from('x') }]);
    const conflict = page.getByRole('dialog', { name: 'The name exists' });
    await conflict.waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the Files name-conflict question');
    await assertKeyboardReachable(page, 'the Files name-conflict question', '#files-conflict-dialog');
    await page.keyboard.press('Escape');
    await conflict.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#files-transfers li').count(), 0, 'a skipped upload is not queued');
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('two sessions: the sessions strip, the split view and the close question', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url), { width: 1280, height: 720 });
    await loginInPage(page, env.sshd);
    await typeLine(page, 'echo left pane');
    await page.getByRole('button', { name: 'Open another session' }).click();
    const strip = page.getByRole('navigation', { name: 'Sessions' });
    await strip.waitFor({ state: 'visible' });
    let frame = page.frames().find((f) => f.url().includes('pane=1'));
    await until(page, async () => {
      frame = page.frames().find((f) => f.url().includes('pane=1'));
      return frame !== undefined && await frame.locator('#card:not(.pending)').isVisible();
    }, 'the second pane\'s form', 20_000);
    assert.ok(frame);
    await login(frame, env.sshd);
    await waitForState(frame, 'connected', 20_000);
    await page.getByRole('button', { name: 'Split view' }).click();
    await assertAxeClean(page, 'the sessions strip in the split view');
    // Into the strip from the keyboard (a focus() after a click would not show the focus ring).
    await strip.getByRole('button').first().focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    await assertKeyboardReachable(page, 'the sessions strip', '#tabs');
    await saveScreenshot(page, 'tabs-split');
    await strip.getByRole('button', { name: /^Close / }).last().click();
    const ask = page.getByRole('dialog', { name: 'Close this session?' });
    await ask.waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the close question');
    await page.keyboard.press('Escape');
    await ask.waitFor({ state: 'hidden' });
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('on a phone: the extra-keys bar and the More menu', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url), { width: 390, height: 844, touch: true });
    await loginInPage(page, env.sshd);
    await page.getByRole('toolbar', { name: 'Extra keys' }).waitFor({ state: 'visible' });
    await assertAxeClean(page, 'the phone terminal page');
    // From the keyboard (a phone with one, or a screen reader): More opens the menu on its first tool.
    await page.getByRole('button', { name: 'More tools', exact: true }).focus();
    await page.keyboard.press('Enter');
    const menu = page.getByRole('group', { name: 'More tools' });
    await menu.waitFor({ state: 'visible' });
    // Its colours once it has faded in (axe would measure the fade).
    await menu.evaluate((el) => Promise.all(el.getAnimations().map((a) => a.finished)));
    await assertAxeClean(page, 'the More menu');
    const items = await menu.locator('.tool:visible').evaluateAll((els) => els.map((el) => el.id));
    const stops = await tabThrough(page);
    for (const id of items) assert.ok(stops.some((s) => s.desc.includes(`#${id} `)), `Tab reaches ${id} in the menu: ${stops.map((s) => s.desc).join(', ')}`);
    assert.deepEqual(stops.filter((s) => !s.visible).map((s) => s.desc), [], 'every stop shows its focus');
    await page.locator('#keybar button').first().focus();
    await assertKeyboardReachable(page, 'the extra-keys bar', '#keybar');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the keyboard-interactive dialog', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ki = await startFakeSsh({ methods: ['keyboard-interactive'], ki: [{ name: 'Verification', instructions: 'Enter the code.', prompts: [{ prompt: 'Code: ', echo: false }], answers: [KI_ANSWER] }] });
    t.after(() => ki.close());
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url));
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await page.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(ki.port));
    await page.getByLabel('Username', { exact: true }).fill(ki.username);
    await page.locator('#auth-method').selectOption('keyboard-interactive');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Verification' });
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    await assertAxeClean(page, 'the keyboard-interactive dialog');
    await assertKeyboardReachable(page, 'the keyboard-interactive dialog', '#prompt-dialog');
    await dialog.getByLabel('Code:', { exact: true }).fill(KI_ANSWER);
    await dialog.getByRole('button', { name: 'Continue', exact: true }).click();
    await waitForPage(page, (s) => s.screen.includes(FAKE_PROMPT.trim()), 'the shell after the dialog', 20_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a viewer\'s page for a dead link', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const dead = `0.${Buffer.from('{"v":1,"s":"x","l":"y","e":1,"m":"view"}').toString('base64url')}.${'A'.repeat(43)}`;
    const { page, errors } = await openTestPage(t, env.browser, withToken(env.bridge.url, `&share=${dead}&target=127.0.0.1:${env.sshd.port}`));
    await page.getByRole('heading', { name: 'This shared session is not available' }).waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await noticeOf(page), /expired/, 'the token\'s own expiry is told');
    await assertAxeClean(page, 'the dead link\'s page');
    await assertKeyboardReachable(page, 'the dead link\'s page', '#app', { fromTop: true });
    assert.deepEqual(errors, [], 'no console or page errors');
  });
});

async function noticeOf(page: Page): Promise<string> {
  return (await page.locator('#notice').textContent()) ?? '';
}
