/**
 * Recent hosts, saved profiles and the empty password (issue 13, items 5 and 3), in headless
 * Chromium against the real bridge and a real OpenSSH sshd (password and publickey logins):
 *
 * - after a login the target is under **Recent**, also after a reload; choosing it fills the form
 *   and focuses the password; it can be removed. Neither localStorage nor sessionStorage ever
 *   holds the password;
 * - a profile saved with its private key kept (encrypted under a storage passphrase): after a
 *   reload, choosing it and typing the storage passphrase logs in with that key; a wrong storage
 *   passphrase says so and opens no connection; rename and delete (the key goes with it);
 * - fixed-target mode offers only the target's entries, by username; a page that is not a secure
 *   context (no WebCrypto) does not offer to keep a key and says that none is stored;
 * - an empty password is sent only when asked for: Connect says so and sends nothing, **Log in
 *   with an empty password** (reached by Tab) sends it once.
 *
 * Every WebSocket the page opens is recorded (helpers/browser.ts recordWsFrames): "nothing was
 * sent" is checked as "the one connection and `auth` recorded came after". No timing assertions.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { startBridge } from '../helpers/bridge.js';
import {
  CHROMIUM_ARGS, CHROMIUM_PATH, recordWsFrames, until, waitForPage, waitForScreen, waitForState, typeLine,
} from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';
import { sshdAvailable } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { TEST_PROMPT } from '../helpers/sshd.js';

const KEY_PASS = registerSecret('profile-Key-pass-31');
const STORE_PASS = registerSecret('profile-Store-pass-47');
const WRONG_STORE_PASS = registerSecret('not-the-Store-pass-5');
const RECENT_KEY = 'webssh-bridge.recent';
const PROFILES_KEY = 'webssh-bridge.profiles';

/** A client key (ed25519, encrypted with KEY_PASS) that the sshd accepts; made once for the file. */
const keyDir = sshdAvailable() ? mkdtempSync(join(tmpdir(), 'uwsb-page-profiles-')) : '';
let clientKey = '';
let clientPub: string | undefined;
if (keyDir !== '') {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', KEY_PASS, '-C', 'uwsb-profile', '-f', join(keyDir, 'id')], { stdio: 'pipe' });
  clientKey = readFileSync(join(keyDir, 'id'), 'utf8');
  clientPub = readFileSync(join(keyDir, 'id.pub'), 'utf8');
  registerSecret(clientKey);
  for (const line of clientKey.split('\n')) if (!line.startsWith('-----')) registerSecret(line);
}
/** Lines of the key's body: none may ever be in the page's storage in the clear. */
const keyLines = (): string[] => clientKey.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));

interface Storage {
  readonly length: number;
  key(i: number): string | null;
  getItem(k: string): string | null;
  setItem(k: string, v: string): void;
}
interface El { readonly id: string }
interface Globals {
  readonly localStorage: Storage;
  readonly sessionStorage: Storage;
  readonly isSecureContext: boolean;
  readonly document: { readonly activeElement: El | null };
}

/** Every `key=value` of the page's localStorage and sessionStorage. */
const storedTexts = (page: Page): Promise<string[]> => page.evaluate(() => {
  const g = globalThis as unknown as Globals;
  const out: string[] = [];
  for (const st of [g.localStorage, g.sessionStorage]) {
    for (let i = 0; i < st.length; i++) {
      const k = st.key(i) ?? '';
      out.push(`${k}=${st.getItem(k) ?? ''}`);
    }
  }
  return out;
});
const stored = (page: Page, key: string): Promise<unknown> => page.evaluate((k) => {
  const v = (globalThis as unknown as Globals).localStorage.getItem(k);
  return v === null ? null : (JSON.parse(v) as unknown);
}, key);
const activeId = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as Globals).document.activeElement?.id ?? '');
const formShown = (page: Page): Promise<void> => page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
const authsSent = (frames: ReturnType<typeof recordWsFrames>): Array<Record<string, unknown>> => frames.sentJson().filter((m) => m.type === 'auth');

/** Nothing secret in storage: the password, the passphrases, the key in the clear. */
async function assertNoSecretStored(page: Page, secrets: readonly string[]): Promise<void> {
  const all = (await storedTexts(page)).join('\n');
  for (const s of [...secrets, ...keyLines()]) assert.ok(!all.includes(s), `storage holds a secret (${s.slice(0, 12)}…):\n${all.slice(0, 2000)}`);
}

void describe('page: recent hosts, profiles, keys kept encrypted, the empty password', () => {
  const fixture = usePageFixture({
    flags: ['--host-key-policy', 'accept-new-insecure'],
    ...(clientPub === undefined ? {} : { sshdOpts: { authorizedKey: clientPub } }),
  });
  const { ready } = fixture;
  after(() => {
    if (keyDir !== '') rmSync(keyDir, { recursive: true, force: true });
  });

  void it('a login is remembered under Recent (after a reload too); choosing it fills the form; no password is ever stored', { timeout: 150_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const label = `${env.sshd.username}@127.0.0.1:${env.sshd.port}`;
    await formShown(page);
    assert.equal(await page.getByRole('group', { name: 'Recent' }).isVisible(), false, 'nothing recent yet');
    await loginInPage(page, env.sshd);
    assert.deepEqual(await stored(page, RECENT_KEY), [{ host: '127.0.0.1', port: env.sshd.port, username: env.sshd.username, method: 'password' }]);
    await assertNoSecretStored(page, [env.sshd.password]);
    await typeLine(page, 'exit');
    await waitForState(page, 'closed', 20_000);

    await page.reload();
    await formShown(page);
    const recent = page.getByRole('group', { name: 'Recent' });
    await recent.waitFor({ state: 'visible' });
    assert.equal(await page.getByLabel('Host', { exact: true }).inputValue(), '', 'the form starts empty');
    await recent.getByRole('button', { name: label, exact: true }).click();
    assert.equal(await page.getByLabel('Host', { exact: true }).inputValue(), '127.0.0.1');
    assert.equal(await page.getByLabel('Port', { exact: true }).inputValue(), String(env.sshd.port));
    assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), env.sshd.username);
    assert.equal(await page.getByRole('combobox', { name: 'Authentication', exact: true }).inputValue(), 'password');
    assert.equal(await activeId(page), 'password', 'the keyboard is in the password');

    // Removed: gone from the form and from storage; the keyboard stays in the form.
    await recent.getByRole('button', { name: `Remove ${label} from Recent`, exact: true }).click();
    await recent.waitFor({ state: 'hidden' });
    assert.equal(await stored(page, RECENT_KEY), null);
    assert.notEqual(await activeId(page), '', 'the focus is somewhere in the form');

    // The filled form logs in with only the password typed, and the host is back under Recent.
    await page.getByLabel('Password', { exact: true }).fill(env.sshd.password);
    await page.keyboard.press('Enter');
    await waitForState(page, 'connected', 20_000);
    await waitForScreen(page, TEST_PROMPT.trim(), 20_000);
    assert.equal(((await stored(page, RECENT_KEY)) as unknown[]).length, 1);
    await assertNoSecretStored(page, [env.sshd.password]);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('an empty password is sent only when asked for: Connect sends nothing, the button (reached by Tab) sends it once', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const frames = recordWsFrames(page);
    await formShown(page);
    await page.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(env.sshd.port));
    await page.getByLabel('Username', { exact: true }).fill(env.sshd.username);
    const button = page.getByRole('button', { name: 'Log in with an empty password', exact: true });
    assert.equal(await button.isVisible(), false);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error === 'The password is empty.', 'the empty password question', 10_000);
    await button.waitFor({ state: 'visible' });
    assert.equal(await activeId(page), 'password', 'the keyboard is in the password field');
    assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('aria-invalid'), 'true');
    // Enter again: still only the question.
    await page.keyboard.press('Enter');
    assert.equal(await page.getByRole('button', { name: 'Connect', exact: true }).isEnabled(), true, 'not busy: nothing was started');

    // Tab reaches the button; Enter sends the empty password, once (sshd refuses it).
    await page.keyboard.press('Tab');
    assert.equal(await activeId(page), 'empty-password-btn');
    await page.keyboard.press('Enter');
    await waitForPage(page, (s) => /wrong username or password/.test(s.error ?? ''), 'the refused login', 20_000);
    assert.equal(frames.urls().length, 1, `one connection, the asked-for one: ${frames.urls().join(', ')}`);
    const auths = authsSent(frames);
    assert.equal(auths.length, 1, JSON.stringify(auths));
    assert.equal(auths[0]?.['method'], 'password');
    assert.equal(await button.isVisible(), false, 'the button went with its one use');

    // Once means once: the next Connect asks again; typing a password takes the button away.
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error === 'The password is empty.', 'the question again', 10_000);
    await button.waitFor({ state: 'visible' });
    await page.getByLabel('Password', { exact: true }).fill(env.sshd.password);
    await button.waitFor({ state: 'hidden' });
    await page.keyboard.press('Enter');
    await waitForState(page, 'connected', 20_000);
    assert.equal(frames.urls().length, 2, `${frames.urls().join(', ')}`);
    assert.equal(authsSent(frames).length, 2);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a profile with its key kept encrypted: after a reload the storage passphrase unlocks it and the key logs in; a wrong one sends nothing', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, context, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await formShown(page);
    await page.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Port', { exact: true }).fill(String(env.sshd.port));
    await page.getByLabel('Username', { exact: true }).fill(env.sshd.username);
    await page.getByRole('combobox', { name: 'Authentication', exact: true }).selectOption('publickey');
    await page.getByLabel('Private key', { exact: true }).fill(clientKey);
    await page.getByLabel('Passphrase', { exact: true }).fill(KEY_PASS);

    const open = page.getByRole('button', { name: 'Save as profile…', exact: true });
    await open.click();
    assert.equal(await open.getAttribute('aria-expanded'), 'true');
    const panel = page.getByRole('group', { name: 'Save as profile' });
    await panel.getByLabel('Profile name', { exact: true }).fill('work key');
    const keep = panel.getByLabel('Keep this key in this browser, encrypted', { exact: true });
    assert.equal(await keep.isChecked(), false, 'keys stay with their user unless asked');
    await keep.check();
    const storePass = panel.getByLabel('Choose a storage passphrase', { exact: true });
    // Too short first: refused, nothing stored.
    await storePass.fill('short');
    await panel.getByRole('button', { name: 'Save profile', exact: true }).click();
    await waitForPage(page, (s) => s.error === 'The storage passphrase needs at least 8 characters.', 'the short passphrase refused', 10_000);
    assert.equal(await stored(page, PROFILES_KEY), null);
    await storePass.fill(STORE_PASS);
    await storePass.press('Enter'); // saves (does not press Connect)
    await until(page, async () => ((await page.locator('#saved-status').textContent()) ?? '').includes('saved, with the key encrypted'), 'the profile saved', 30_000);
    await panel.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __uwsb?: { state(): string } }).__uwsb?.state()), 'idle', 'Enter in the panel did not connect');
    const profiles = (await stored(page, PROFILES_KEY)) as Array<Record<string, unknown>>;
    assert.equal(profiles.length, 1);
    const { key, ...rest } = profiles[0] ?? {};
    assert.deepEqual(rest, { name: 'work key', host: '127.0.0.1', port: env.sshd.port, username: env.sshd.username, method: 'publickey' });
    const sealed = key as Record<string, unknown>;
    assert.equal(sealed['iterations'], 600_000);
    assert.equal(Buffer.from(String(sealed['salt']), 'base64').length, 16);
    assert.equal(Buffer.from(String(sealed['iv']), 'base64').length, 12);
    await assertNoSecretStored(page, [KEY_PASS, STORE_PASS]);

    await page.reload();
    await formShown(page);
    const frames = recordWsFrames(page);
    await page.getByLabel('Profile', { exact: true }).selectOption('work key');
    assert.equal(await page.getByLabel('Host', { exact: true }).inputValue(), '127.0.0.1');
    assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), env.sshd.username);
    assert.equal(await page.getByRole('combobox', { name: 'Authentication', exact: true }).inputValue(), 'publickey');
    assert.match((await page.locator('#stored-key-note').textContent()) ?? '', /private key stored with the profile "work key" .* will be used/);
    assert.equal(await page.getByLabel('Private key', { exact: true }).isVisible(), false, 'the stored key replaces the key field');
    await page.getByLabel('Passphrase', { exact: true }).fill(KEY_PASS);

    // A wrong storage passphrase: the sentence, the field to type again, no connection.
    const unlock = page.getByLabel('Storage passphrase', { exact: true });
    await unlock.fill(WRONG_STORE_PASS);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error === 'That storage passphrase does not unlock the stored key. Nothing was sent.', 'the wrong storage passphrase', 30_000);
    assert.equal(await activeId(page), 'storage-passphrase');

    await unlock.fill(STORE_PASS);
    await page.keyboard.press('Enter');
    await waitForState(page, 'connected', 30_000);
    await waitForScreen(page, TEST_PROMPT.trim(), 20_000);
    assert.equal(frames.urls().length, 1, `one connection, after the right passphrase: ${frames.urls().join(', ')}`);
    assert.deepEqual(authsSent(frames).map((m) => m['method']), ['publickey']);
    assert.match(env.sshd.log(), /Accepted publickey for uwsbtest/, 'sshd let the key in');
    await assertNoSecretStored(page, [KEY_PASS, STORE_PASS]);

    // Another tab of the same browser: rename it, then delete it, and the sealed key is gone.
    const other = await context.newPage();
    other.on('pageerror', (err) => errors.push(`other tab: ${err.message}`));
    await other.goto(`${env.bridge.url}/`);
    await formShown(other);
    const choice = other.getByLabel('Profile', { exact: true });
    await choice.selectOption('work key');
    // Saving over it without its key asks first; Cancel keeps the stored key.
    await other.locator('#auth-method').selectOption('password');
    const saveOpen = other.getByRole('button', { name: 'Save as profile…', exact: true });
    await saveOpen.click();
    const savePanel = other.getByRole('group', { name: 'Save as profile' });
    await savePanel.getByLabel('Profile name', { exact: true }).fill('work key');
    await savePanel.getByRole('button', { name: 'Save profile', exact: true }).click();
    const replace = other.getByRole('dialog', { name: 'Replace this profile?' });
    await replace.waitFor({ state: 'visible' });
    await replace.getByRole('button', { name: 'Cancel', exact: true }).click();
    await replace.waitFor({ state: 'hidden' });
    assert.deepEqual(((await stored(other, PROFILES_KEY)) as Array<{ key: unknown }>)[0]?.key, sealed, 'Cancel keeps the stored key');
    await saveOpen.click();
    await savePanel.waitFor({ state: 'hidden' });
    await choice.selectOption('work key');
    await other.getByRole('button', { name: 'Rename', exact: true }).click();
    const newName = other.getByLabel('New name', { exact: true });
    assert.equal(await newName.inputValue(), 'work key');
    await newName.fill('deploy key');
    await newName.press('Enter');
    await until(other, async () => ((await stored(other, PROFILES_KEY)) as Array<{ name: string }>)[0]?.name === 'deploy key', 'the rename stored', 10_000);
    assert.equal(await choice.inputValue(), 'deploy key', 'still chosen under its new name');
    assert.deepEqual(((await stored(other, PROFILES_KEY)) as Array<{ key: unknown }>)[0]?.key, sealed, 'the key goes with the name');
    // A profile holding a stored key asks before it goes (the key would be lost for good).
    const ask = other.getByRole('dialog', { name: 'Delete this profile?' });
    await other.locator('#profile-delete').click();
    await ask.waitFor({ state: 'visible' });
    assert.match((await ask.textContent()) ?? '', /holds a key encrypted in this browser/);
    await ask.getByRole('button', { name: 'Cancel', exact: true }).click();
    await ask.waitFor({ state: 'hidden' });
    assert.deepEqual(((await stored(other, PROFILES_KEY)) as Array<{ key: unknown }>)[0]?.key, sealed, 'Cancel keeps the profile and its key');
    await other.locator('#profile-delete').click();
    await ask.waitFor({ state: 'visible' });
    await ask.getByRole('button', { name: 'Delete', exact: true }).click();
    await until(other, async () => (await stored(other, PROFILES_KEY)) === null, 'the profile deleted', 10_000);
    assert.match((await other.locator('#saved-status').textContent()) ?? '', /Profile "deploy key" deleted, with its stored key\./);
    assert.ok(!(await storedTexts(other)).some((s) => s.includes(String(sealed['data']))), 'the sealed key is gone too');
    assert.equal(await choice.isVisible(), false, 'no profiles: no choice');
    assert.ok(['host', 'username', 'password'].includes(await activeId(other)), `the keyboard is back in the form: #${await activeId(other)}`);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('fixed-target mode offers only the target\'s entries, by username', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const fixed = await startBridge(['--host-key-policy', 'accept-new-insecure', '--target', `127.0.0.1:${env.sshd.port}`]);
    t.after(() => fixed.close());
    const { page, errors } = await openTestPage(t, env.browser, `${fixed.url}/`);
    await formShown(page);
    await page.evaluate(([recentKey, profilesKey, port, user]) => {
      const st = (globalThis as unknown as Globals).localStorage;
      st.setItem(recentKey, JSON.stringify([
        { host: 'elsewhere.example', port: 22, username: 'mallory', method: 'password' },
        { host: '127.0.0.1', port: Number(port), username: user, method: 'password' },
      ]));
      st.setItem(profilesKey, JSON.stringify([
        { name: 'other', host: 'elsewhere.example', port: 22, username: 'mallory', method: 'password' },
        { name: 'here', host: '127.0.0.1', port: Number(port), username: user, method: 'password' },
      ]));
    }, [RECENT_KEY, PROFILES_KEY, String(env.sshd.port), env.sshd.username] as const);
    await page.reload();
    await formShown(page);
    const recent = page.getByRole('group', { name: 'Recent' });
    await recent.waitFor({ state: 'visible' });
    const names = await recent.locator('.recent-pick').allTextContents();
    assert.deepEqual(names, [env.sshd.username], 'the target\'s entry, by username only');
    const options = await page.getByLabel('Profile', { exact: true }).locator('option').allTextContents();
    assert.deepEqual(options, ['No profile', 'here']);
    assert.equal(await page.getByLabel('Host', { exact: true }).isVisible(), false);
    await recent.getByRole('button', { name: env.sshd.username, exact: true }).click();
    assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), env.sshd.username);
    assert.equal(await activeId(page), 'password');
    await page.getByLabel('Password', { exact: true }).fill(env.sshd.password);
    await page.keyboard.press('Enter');
    await waitForState(page, 'connected', 20_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('without WebCrypto (not a secure context) no key is offered to be kept, and none is stored', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    // A name that is not localhost makes http:// an insecure context (crypto.subtle is missing).
    const browser = await chromium.launch({
      executablePath: CHROMIUM_PATH, headless: true, timeout: 60_000,
      args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP insecure.test 127.0.0.1'],
    });
    t.after(() => browser.close());
    const { page, errors } = await openTestPage(t, browser, `http://insecure.test:${env.bridge.port}/`);
    await formShown(page);
    assert.equal(await page.evaluate(() => (globalThis as unknown as Globals).isSecureContext), false, 'an insecure context');
    await page.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await page.getByLabel('Username', { exact: true }).fill(env.sshd.username);
    await page.getByRole('combobox', { name: 'Authentication', exact: true }).selectOption('publickey');
    await page.getByLabel('Private key', { exact: true }).fill(clientKey);
    await page.getByRole('button', { name: 'Save as profile…', exact: true }).click();
    const panel = page.getByRole('group', { name: 'Save as profile' });
    await panel.waitFor({ state: 'visible' });
    assert.equal(await panel.getByLabel('Keep this key in this browser, encrypted', { exact: true }).isVisible(), false, 'the option is not offered');
    assert.match((await page.locator('#keep-key-note').textContent()) ?? '', /no key is stored/);
    await panel.getByLabel('Profile name', { exact: true }).fill('plain');
    await panel.getByRole('button', { name: 'Save profile', exact: true }).click();
    await until(page, async () => (await stored(page, PROFILES_KEY)) !== null, 'the profile saved', 10_000);
    assert.deepEqual(await stored(page, PROFILES_KEY), [{ name: 'plain', host: '127.0.0.1', port: 22, username: env.sshd.username, method: 'publickey' }]);
    await assertNoSecretStored(page, []);
    assert.deepEqual(errors, [], 'no console or page errors');
  });
});
