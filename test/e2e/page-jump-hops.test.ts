/**
 * The page's jump host section with several hops (issue 17), in headless Chromium against the
 * real bridge and three real OpenSSH servers: hop 1 on 127.0.0.1 (password) that forwards only to
 * hop 2 (`PermitOpen`), hop 2 on 127.0.0.4 (an encrypted private key, or a password), and the
 * target on 127.0.0.5. The bridge may dial neither hop 2 nor the target (`--deny-targets`), and
 * hop 1 may not forward to the target, so only hop 2 reaches it.
 *
 * - `?jump=user@hop1:port,user@hop2:port` pre-fills both hops (never a password); a login with a
 *   password on hop 1 and a key + passphrase on hop 2 runs a command on the target; the WebSocket
 *   URL names both hops in order, `auth.jump` carries both logins in order, no secret is in a URL;
 * - a wrong password on hop 2 is said of "jump host 2" and its address; hop 1 alone cannot
 *   reach the target (said of "jump host 1");
 * - Add jump host adds hops 2 and 3 (then no more), each with its own accessible names; Remove
 *   moves the later hops up; a half-filled hop 3 is marked at its field with a sentence naming it;
 *   axe finds nothing serious with three hops open (each login method) and Tab reaches every field.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { assertAxeClean, assertKeyboardReachable } from '../helpers/a11y.js';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { chromiumAvailable, describePage, launchBrowser, recordWsFrames, snapshot, typeLine, waitForPage, waitForScreen, waitForState } from '../helpers/browser.js';
import { openTestPage, requirePageDeps } from '../helpers/page-fixture.js';
import { sshdAvailable } from '../helpers/require.js';
import { registerSecret } from '../helpers/secrets.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';

const PASSPHRASE = registerSecret('page-hop2-Phrase-8');

interface Env { browser: Browser; hop1: SshdHandle; hop2: SshdHandle; target: SshdHandle; bridge: BridgeHandle; key: string }

/** The target's fields of the form (the hops' are filled by the caller). */
async function fillTarget(page: Page, target: SshdHandle): Promise<void> {
  await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
  await page.getByLabel('Host', { exact: true }).fill(target.host);
  await page.getByLabel('Port', { exact: true }).fill(String(target.port));
  await page.getByLabel('Username', { exact: true }).fill(target.username);
  await page.getByLabel('Password', { exact: true }).fill(target.password);
}

/** `?jump=` of the page naming both hops with their users. */
const pageJump = (env: Env): string =>
  `?jump=${encodeURIComponent([env.hop1, env.hop2].map((h) => `${h.username}@${h.host}:${h.port}`).join(','))}`;

void describe('page: several jump hosts through real OpenSSH servers', () => {
  const state: { browser?: Browser; hop1?: SshdHandle; hop2?: SshdHandle; target?: SshdHandle; bridge?: BridgeHandle; dir?: string; key?: string } = {};
  before(async () => {
    if (!sshdAvailable() || !chromiumAvailable()) return;
    state.dir = mkdtempSync(join(tmpdir(), 'uwsb-page-jump2-'));
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', PASSPHRASE, '-C', 'page-hop2', '-f', join(state.dir, 'hop2')], { stdio: 'pipe' });
    state.key = readFileSync(join(state.dir, 'hop2'), 'utf8');
    registerSecret(state.key);
    for (const line of state.key.split('\n')) if (!line.startsWith('-----') && line.trim() !== '') registerSecret(line);
    const pub = readFileSync(join(state.dir, 'hop2.pub'), 'utf8').trim();
    [state.hop2, state.target] = await Promise.all([
      startSshd({ listenAddress: '127.0.0.4', authorizedKey: pub }),
      startSshd({ listenAddress: '127.0.0.5' }),
    ]);
    // Hop 1 forwards to hop 2 only: the target is out of its reach.
    state.hop1 = await startSshd({ permitOpen: [`${state.hop2.host}:${state.hop2.port}`] });
    state.bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--deny-targets', '127.0.0.4,127.0.0.5']);
    state.browser = await launchBrowser();
  });
  after(async () => {
    await state.browser?.close();
    try {
      await state.bridge?.close(); // also the log scan: no registered secret in any log line
    } finally {
      await Promise.all([state.hop1?.stop(), state.hop2?.stop(), state.target?.stop()]);
      if (state.dir !== undefined) rmSync(state.dir, { recursive: true, force: true });
    }
  });
  const ready = (t: TestContext): Env | undefined => {
    if (!requirePageDeps(t, { sshd: true })) return undefined;
    const { browser, hop1, hop2, target, bridge, key } = state;
    assert.ok(browser && hop1 && hop2 && target && bridge && key !== undefined, 'before() started the browser, the servers and the bridge');
    return { browser, hop1, hop2, target, bridge, key };
  };

  void it('two hops from ?jump= (password, then key + passphrase) run a command on the target only hop 2 reaches', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/${pageJump(env)}`);
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    page.on('websocket', (ws) => urls.push(ws.url()));
    const frames = recordWsFrames(page);
    await fillTarget(page, env.target);
    // ?jump= filled both hops, never a password; hop 3 is not there, Add can add it.
    assert.equal(await page.locator('#jump-section').getAttribute('open'), '');
    assert.equal(await page.getByLabel('Jump host', { exact: true }).inputValue(), env.hop1.host);
    assert.equal(await page.getByLabel('Jump host port', { exact: true }).inputValue(), String(env.hop1.port));
    assert.equal(await page.getByLabel('Jump host username', { exact: true }).inputValue(), env.hop1.username);
    assert.equal(await page.getByLabel('Jump host password', { exact: true }).inputValue(), '');
    assert.equal(await page.getByLabel('Jump host 2 host', { exact: true }).inputValue(), env.hop2.host);
    assert.equal(await page.getByLabel('Jump host 2 port', { exact: true }).inputValue(), String(env.hop2.port));
    assert.equal(await page.getByLabel('Jump host 2 username', { exact: true }).inputValue(), env.hop2.username);
    assert.equal(await page.getByLabel('Jump host 2 password', { exact: true }).inputValue(), '');
    assert.equal(await page.getByLabel('Jump host 3 host', { exact: true }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Add jump host', exact: true }).isVisible(), true);

    await page.getByLabel('Jump host password', { exact: true }).fill(env.hop1.password);
    await page.getByLabel('Jump host 2 authentication', { exact: true }).selectOption('publickey');
    await page.getByLabel('Jump host 2 private key', { exact: true }).fill(env.key);
    await page.getByLabel('Jump host 2 passphrase', { exact: true }).fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'connected', 45_000);
    await waitForScreen(page, TEST_PROMPT.trim(), 20_000);
    await typeLine(page, 'echo "ran=$((6*7)) at=$(echo $SSH_CONNECTION | cut -d" " -f3)"');
    await waitForScreen(page, 'ran=42 at=127.0.0.5', 15_000);

    const ws = frames.urls();
    assert.equal(ws.length, 1, ws.join('\n'));
    const url = new URL(ws[0] ?? '');
    assert.equal(url.pathname, `/ws/127.0.0.5/${env.target.port}`);
    assert.equal(url.searchParams.get('jump'), `${env.hop1.host}:${env.hop1.port},${env.hop2.host}:${env.hop2.port}`, 'the hops in dialing order');
    for (const u of urls) {
      for (const secret of [env.hop1.password, PASSPHRASE]) assert.ok(!u.includes(secret) && !u.includes(encodeURIComponent(secret)), `a secret in ${u}`);
      assert.ok(!u.includes('OPENSSH'), `a key in ${u}`);
    }
    const auth = frames.sentJson().find((m) => m.type === 'auth');
    // recordWsFrames masks secrets: "***" says they were there.
    assert.deepEqual(auth?.['jump'], [
      { username: env.hop1.username, method: 'password', password: '***' },
      { username: env.hop2.username, method: 'publickey', privateKey: '***', passphrase: '***' },
    ]);
  });

  void it('a wrong password on hop 2 is said of jump host 2 and its address', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/${pageJump(env)}`);
    await fillTarget(page, env.target);
    await page.getByLabel('Jump host password', { exact: true }).fill(env.hop1.password);
    await page.getByLabel('Jump host 2 password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null && s.error.includes('jump host 2'), 'the error naming hop 2', 45_000);
    const error = (await snapshot(page)).error ?? '';
    assert.match(error, new RegExp(`Authentication failed on jump host 2 \\(127\\.0\\.0\\.4:${env.hop2.port}\\)`), await describePage(page));
  });

  void it('hop 1 alone does not reach the target (it forwards to hop 2 only): said of jump host 1', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/${pageJump(env)}`);
    await fillTarget(page, env.target);
    await page.getByRole('button', { name: 'Remove jump host 2', exact: true }).click();
    await page.getByLabel('Jump host password', { exact: true }).fill(env.hop1.password);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null && s.error.includes('jump host 1'), 'the error naming hop 1', 45_000);
    const error = (await snapshot(page)).error ?? '';
    assert.match(error, new RegExp(`^Could not reach 127\\.0\\.0\\.5:${env.target.port} through jump host 1 \\(127\\.0\\.0\\.1:${env.hop1.port}\\)`), await describePage(page));
  });

  void it('Add and Remove: up to three hops with their own names; a half-filled hop 3 is marked; axe and Tab with three hops open', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await fillTarget(page, env.target);
    await page.getByText('Advanced: jump host').click();
    const add = page.getByRole('button', { name: 'Add jump host', exact: true });
    assert.equal(await page.getByRole('button', { name: 'Remove jump host 1', exact: true }).isVisible(), false, 'a single hop is emptied, not removed');
    await add.click();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'jump-2-host', 'Add moves the focus to the new hop');
    await add.click();
    assert.equal(await add.isVisible(), false, 'three hops at most');
    for (const n of [2, 3]) {
      assert.equal(await page.getByRole('group', { name: `Jump host ${n}`, exact: true }).isVisible(), true);
      for (const f of ['host', 'port', 'username', 'authentication', 'password']) {
        assert.equal(await page.getByLabel(`Jump host ${n} ${f}`, { exact: true }).isVisible(), true, `Jump host ${n} ${f}`);
      }
    }
    await assertAxeClean(page, 'the connect form with three jump hosts open');
    await assertKeyboardReachable(page, 'the form with three jump hosts open', '#connect-form', { fromTop: true });
    await page.getByLabel('Jump host 2 authentication', { exact: true }).selectOption('publickey');
    await page.getByLabel('Jump host 3 authentication', { exact: true }).selectOption('keyboard-interactive');
    assert.equal(await page.getByLabel('Jump host 2 private key', { exact: true }).isVisible(), true);
    assert.equal(await page.getByLabel('Jump host 2 passphrase', { exact: true }).isVisible(), true);
    assert.equal(await page.getByLabel('Jump host 3 password', { exact: true }).isVisible(), false);
    await assertAxeClean(page, 'three jump hosts: password, private key, keyboard-interactive');

    // A half-filled hop 3 is marked at its field, the sentence naming it; nothing is sent.
    await page.getByLabel('Jump host', { exact: true }).fill('a.example');
    await page.getByLabel('Jump host username', { exact: true }).fill('u1');
    await page.getByLabel('Jump host password', { exact: true }).fill('p1');
    await page.getByLabel('Jump host 2 host', { exact: true }).fill('b.example');
    await page.getByLabel('Jump host 2 username', { exact: true }).fill('u2');
    await page.getByLabel('Jump host 2 private key', { exact: true }).fill('KEY');
    await page.getByLabel('Jump host 3 host', { exact: true }).fill('c.example:2200');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null && s.error.includes('jump host 3'), 'the sentence naming hop 3', 15_000);
    assert.equal((await snapshot(page)).error, 'Enter your username on jump host 3.');
    assert.equal(await page.getByLabel('Jump host 3 username', { exact: true }).getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'jump-3-username');
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __uwsb: { state(): string } }).__uwsb.state()), 'idle', 'nothing was sent');

    // Remove hop 2: hop 3 moves up with its login; Add comes back.
    await page.getByRole('button', { name: 'Remove jump host 2', exact: true }).click();
    assert.equal(await page.getByLabel('Jump host 3 host', { exact: true }).isVisible(), false);
    assert.equal(await page.getByLabel('Jump host 2 host', { exact: true }).inputValue(), 'c.example:2200');
    assert.equal(await page.getByLabel('Jump host 2 authentication', { exact: true }).inputValue(), 'keyboard-interactive');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'jump-2-host', 'the focus stays on the hop now in that place');
    assert.equal(await add.isVisible(), true);
    // Remove hop 1: hop 2 becomes the only one; its Remove goes away.
    await page.getByRole('button', { name: 'Remove jump host 1', exact: true }).click();
    assert.equal(await page.getByLabel('Jump host', { exact: true }).inputValue(), 'c.example:2200');
    assert.equal(await page.getByLabel('Jump host 2 host', { exact: true }).isVisible(), false);
    assert.equal(await page.getByRole('button', { name: 'Remove jump host 1', exact: true }).isVisible(), false);
  });
});
