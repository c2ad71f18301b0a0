/**
 * The page's keyboard-interactive dialog in headless Chromium against the in-process ssh2 server:
 * a two-round 2FA login shows the dialog twice (the round's name as heading, the instructions,
 * one labelled input per prompt, hidden when the server asks for no echo) and reaches the shell;
 * a method the server does not offer ends in the page's plain sentence. Fails (never skips)
 * under CI=true when Chromium is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { openTestPage, requirePageDeps } from '../helpers/page-fixture.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh, type FakeKiRound, type FakeSshHandle } from '../helpers/ssh-server.js';
import { chromiumAvailable, describePage, launchBrowser, recordWsFrames, waitForPage, waitForScreen, waitForState } from '../helpers/browser.js';

const KI_PASSWORD = registerSecret('page-Ki-pass-64');
const OTP = registerSecret('271828');

const ROUNDS: FakeKiRound[] = [
  { name: 'Login', instructions: 'Step 1 of 2: your password.', prompts: [{ prompt: 'Password: ', echo: false }], answers: [KI_PASSWORD] },
  { name: '', instructions: 'Open your authenticator app.', prompts: [{ prompt: 'Verification code: ', echo: false }, { prompt: 'Device name: ', echo: true }], answers: [OTP, 'laptop'] },
];

void describe('page: keyboard-interactive dialog (fake server)', () => {
  let browser: Browser | undefined;
  let bridge: BridgeHandle | undefined;
  let ki: FakeSshHandle | undefined;
  let passwordOnly: FakeSshHandle | undefined;

  before(async () => {
    if (!chromiumAvailable()) return;
    ki = await startFakeSsh({ methods: ['keyboard-interactive'], ki: ROUNDS });
    passwordOnly = await startFakeSsh({ methods: ['password'] });
    bridge = await startBridge(['--host-key-policy', 'accept-new-insecure']);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await bridge?.close();
    await ki?.close();
    await passwordOnly?.close();
  });

  function ready(t: TestContext): { browser: Browser; bridge: BridgeHandle; ki: FakeSshHandle; passwordOnly: FakeSshHandle } | undefined {
    if (!requirePageDeps(t, { sshd: false })) return undefined;
    assert.ok(browser && bridge && ki && passwordOnly, 'before() did not start everything');
    return { browser, bridge, ki, passwordOnly };
  }

  async function fillKiLogin(page: Page, port: number): Promise<void> {
    await page.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(port));
    await page.getByLabel('Username', { exact: true }).fill('alice');
    await page.locator('#auth-method').selectOption({ label: 'Keyboard-interactive (2FA)' });
    assert.ok(!(await page.getByLabel('Password', { exact: true }).isVisible()), 'the password field is hidden for keyboard-interactive');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
  }

  void it('a two-round 2FA login shows the dialog twice and reaches the shell', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const frames = recordWsFrames(page);
    await fillKiLogin(page, env.ki.port);

    const first = page.getByRole('dialog', { name: 'Login' });
    await first.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await first.getAttribute('aria-modal'), 'true');
    assert.ok(((await first.textContent()) ?? '').includes('Step 1 of 2: your password.'), 'the instructions are shown');
    const pw = first.getByLabel('Password:', { exact: true });
    assert.equal(await pw.getAttribute('type'), 'password');
    const focused = await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id ?? '');
    assert.equal(focused, await pw.getAttribute('id'), 'the first input has the focus');
    await pw.fill(KI_PASSWORD);
    await first.getByRole('button', { name: 'Continue', exact: true }).click();

    const second = page.getByRole('dialog', { name: 'Authentication' }); // no name: the default heading
    await second.waitFor({ state: 'visible', timeout: 20_000 });
    assert.ok(((await second.textContent()) ?? '').includes('Open your authenticator app.'));
    const code = second.getByLabel('Verification code:', { exact: true });
    const device = second.getByLabel('Device name:', { exact: true });
    assert.equal(await code.getAttribute('type'), 'password');
    assert.equal(await device.getAttribute('type'), 'text');
    await code.fill(OTP);
    await device.fill('laptop');
    await device.press('Enter'); // Enter submits like Continue

    await waitForState(page, 'connected', 20_000);
    await waitForScreen(page, FAKE_PROMPT.trim(), 20_000);
    assert.ok(!(await page.getByRole('dialog').isVisible()), 'no dialog left open');
    const auth = frames.sentJson().find((m) => m.type === 'auth');
    assert.equal(auth?.method, 'keyboard-interactive');
    assert.ok(!('password' in (auth ?? {})), 'no password in the auth message');
    const replies = frames.sentJson().filter((m) => m.type === 'prompt-reply');
    assert.deepEqual(replies.map((m) => (m.responses as unknown[]).length), [1, 2], `two replies; ${await describePage(page)}`);
    assert.deepEqual(env.ki.events.logins, ['keyboard-interactive']);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('keyboard-interactive against a password-only server ends with a plain sentence', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const opened = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await fillKiLogin(opened.page, env.passwordOnly.port);
    await waitForPage(opened.page, (s) => s.error === 'The server does not accept this authentication method.', 'the SSH_NO_AUTH_METHOD sentence', 20_000);
  });
});
