/**
 * The page's jump hosts (issue 17), in headless Chromium against the real bridge and two real
 * OpenSSH servers: a bastion on 127.0.0.1 and a target on 127.0.0.3 that the bridge may not dial
 * (`--deny-targets 127.0.0.3`), so only the bastion reaches it.
 *
 * - a login through the form's **Advanced: jump host** section (pre-filled from
 *   `?jump=user@host:port`) runs its shell on the target (`$SSH_CONNECTION` shows 127.0.0.3);
 *   the hop's password is in no URL the page opens (WebSocket or HTTP), only in `auth.jump`;
 * - a drop resumes the same shell with a resume URL that has no `?jump=`; Reconnect after the
 *   shell's end logs in through the jump host again (`?jump=` and `auth.jump` from memory);
 * - a wrong password on the jump host says so of jump host 1 and its address;
 * - under tofu the bastion's host key question says "Jump host 1: …", the target's does not;
 * - the section is collapsed by default; axe finds nothing serious on the form with it open, and
 *   Tab reaches every one of its fields.
 *
 * No timing assertions: every wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { assertAxeClean, assertKeyboardReachable } from '../helpers/a11y.js';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { chromiumAvailable, describePage, launchBrowser, recordWsFrames, snapshot, typeLine, until, waitForPage, waitForScreen, waitForState } from '../helpers/browser.js';
import { openTestPage, requirePageDeps } from '../helpers/page-fixture.js';
import { sshdAvailable } from '../helpers/require.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startSshd, TEST_PROMPT, type SshdHandle } from '../helpers/sshd.js';

interface Env { browser: Browser; bastion: SshdHandle; target: SshdHandle; bridge: BridgeHandle; tofu: BridgeHandle }

/** The target's fields of the form (the jump host's are filled by the caller). */
async function fillTarget(page: Page, target: SshdHandle): Promise<void> {
  await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
  await page.getByLabel('Host', { exact: true }).fill(target.host);
  await page.getByLabel('Port', { exact: true }).fill(String(target.port));
  await page.getByLabel('Username', { exact: true }).fill(target.username);
  await page.getByLabel('Password', { exact: true }).fill(target.password);
}

/** Every URL the page asks for (HTTP requests and WebSockets alike). */
function recordUrls(page: Page): () => string[] {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => urls.push(ws.url()));
  return () => [...urls];
}

void describe('page: jump hosts through a real OpenSSH bastion', () => {
  const state: { browser?: Browser; bastion?: SshdHandle; target?: SshdHandle; bridge?: BridgeHandle; tofu?: BridgeHandle; dir?: string } = {};
  before(async () => {
    if (!sshdAvailable() || !chromiumAvailable()) return;
    state.dir = mkdtempSync(join(tmpdir(), 'uwsb-page-jump-'));
    state.bastion = await startSshd();
    state.target = await startSshd({ listenAddress: '127.0.0.3' });
    state.bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--deny-targets', '127.0.0.3']);
    state.tofu = await startBridge(['--host-key-policy', 'tofu', '--deny-targets', '127.0.0.3',
      '--known-hosts', join(state.dir, 'known_hosts'), '--system-known-hosts', join(state.dir, 'none')]);
    state.browser = await launchBrowser();
  });
  after(async () => {
    await state.browser?.close();
    try {
      await state.bridge?.close(); // also the log scan: no registered secret in any log line
      await state.tofu?.close();
    } finally {
      await Promise.all([state.bastion?.stop(), state.target?.stop()]);
      if (state.dir !== undefined) rmSync(state.dir, { recursive: true, force: true });
    }
  });
  const ready = (t: TestContext): Env | undefined => {
    if (!requirePageDeps(t, { sshd: true })) return undefined;
    const { browser, bastion, target, bridge, tofu } = state;
    assert.ok(browser && bastion && target && bridge && tofu, 'before() started the browser, the servers and the bridges');
    return { browser, bastion, target, bridge, tofu };
  };

  void it('a jumped login from the form runs its shell on the target; the hop\'s password is in no URL', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const hop = `${env.bastion.username}@${env.bastion.host}:${env.bastion.port}`;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/?jump=${encodeURIComponent(hop)}`);
    const urls = recordUrls(page);
    const frames = recordWsFrames(page);
    await fillTarget(page, env.target);
    // ?jump= opened the section and filled the hop, never a password.
    assert.equal(await page.locator('#jump-section').getAttribute('open'), '');
    assert.equal(await page.getByLabel('Jump host', { exact: true }).inputValue(), env.bastion.host);
    assert.equal(await page.getByLabel('Jump host port', { exact: true }).inputValue(), String(env.bastion.port));
    assert.equal(await page.getByLabel('Jump host username', { exact: true }).inputValue(), env.bastion.username);
    assert.equal(await page.getByLabel('Jump host password', { exact: true }).inputValue(), '');
    await page.getByLabel('Jump host password', { exact: true }).fill(env.bastion.password);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'connected', 30_000);
    await waitForScreen(page, TEST_PROMPT.trim(), 20_000);
    await typeLine(page, 'echo "at=$(echo $SSH_CONNECTION | cut -d" " -f3)"');
    await waitForScreen(page, 'at=127.0.0.3', 15_000);

    const ws = frames.urls();
    assert.equal(ws.length, 1, ws.join('\n'));
    const url = new URL(ws[0] ?? '');
    assert.equal(url.pathname, `/ws/127.0.0.3/${env.target.port}`);
    assert.equal(url.searchParams.get('jump'), `${env.bastion.host}:${env.bastion.port}`);
    for (const u of urls()) assert.ok(!u.includes(env.bastion.password) && !u.includes(encodeURIComponent(env.bastion.password)), `a password in ${u}`);
    const auth = frames.sentJson().find((m) => m.type === 'auth');
    // The hop's password goes only in auth.jump (recordWsFrames masks it: "***" says it was there).
    const jump = auth?.['jump'] as Array<Record<string, unknown>> | undefined;
    assert.equal(jump?.length, 1);
    assert.equal(jump?.[0]?.['username'], env.bastion.username);
    assert.equal(jump?.[0]?.['method'], 'password');
    assert.equal(jump?.[0]?.['password'], '***', 'the hop\'s password is in auth.jump (masked in the record)');
  });

  void it('a jumped session resumes after a drop without ?jump=; Reconnect after its end logs in through the jump host again', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const proxy = await startTcpProxy(env.bridge.port);
    t.after(() => proxy.close());
    const hop = `${env.bastion.username}@${env.bastion.host}:${env.bastion.port}`;
    const { page } = await openTestPage(t, env.browser, `http://127.0.0.1:${proxy.port}/?jump=${encodeURIComponent(hop)}`);
    const frames = recordWsFrames(page);
    await fillTarget(page, env.target);
    await page.getByLabel('Jump host password', { exact: true }).fill(env.bastion.password);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'connected', 30_000);
    await waitForScreen(page, TEST_PROMPT.trim(), 20_000);
    await typeLine(page, 'echo "pid=$$ at=$(echo $SSH_CONNECTION | cut -d" " -f3)"');
    const before = /pid=(\d+) at=127\.0\.0\.3/.exec(await waitForScreen(page, /pid=\d+ at=127\.0\.0\.3/, 15_000))?.[1];
    assert.ok(before !== undefined);

    proxy.drop();
    await until(page, () => page.evaluate(() => (globalThis as unknown as { __uwsb: { resumeCount(): number } }).__uwsb.resumeCount() >= 1), 'the resume', 60_000);
    await waitForState(page, 'connected', 30_000);
    const resumed = new URL(frames.urls()[1] ?? '');
    assert.ok(resumed.searchParams.has('resume'), resumed.href);
    assert.equal(resumed.searchParams.has('jump'), false, `a resume attaches to the session: ${resumed.href}`);
    await typeLine(page, 'echo "again=$$"');
    await waitForScreen(page, `again=${before}`, 15_000);

    await typeLine(page, 'exit');
    await page.getByRole('button', { name: 'Reconnect', exact: true }).click({ timeout: 20_000 });
    await waitForState(page, 'connected', 30_000);
    const fresh = new URL(frames.urls().at(-1) ?? '');
    assert.equal(fresh.searchParams.get('jump'), `${env.bastion.host}:${env.bastion.port}`, `a new login names the route again: ${fresh.href}`);
    assert.equal(fresh.searchParams.has('resume'), false);
    await typeLine(page, 'echo "back=$(echo $SSH_CONNECTION | cut -d" " -f3)"');
    await waitForScreen(page, 'back=127.0.0.3', 20_000);
  });

  void it('a wrong password on the jump host says so of jump host 1 and its address', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await fillTarget(page, env.target);
    await page.getByText('Advanced: jump host').click();
    await page.getByLabel('Jump host', { exact: true }).fill(`${env.bastion.host}:${env.bastion.port}`);
    await page.getByLabel('Jump host username', { exact: true }).fill(env.bastion.username);
    await page.getByLabel('Jump host password', { exact: true }).fill('not-the-password');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForPage(page, (s) => s.error !== null && s.error.includes('jump host 1'), 'the error naming the hop', 30_000);
    const error = (await snapshot(page)).error ?? '';
    assert.match(error, new RegExp(`Authentication failed on jump host 1 \\(127\\.0\\.0\\.1:${env.bastion.port}\\)`), await describePage(page));
  });

  void it('under tofu the bastion\'s host key question names jump host 1; the target\'s names the target', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const hop = `${env.bastion.host}:${env.bastion.port}`;
    const { page } = await openTestPage(t, env.browser, `${env.tofu.url}/?jump=${encodeURIComponent(hop)}`);
    await fillTarget(page, env.target);
    await page.getByLabel('Jump host username', { exact: true }).fill(env.bastion.username);
    await page.getByLabel('Jump host password', { exact: true }).fill(env.bastion.password);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Unknown host key' });
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await page.locator('#hostkey-target').textContent(), `Jump host 1: ${hop}`);
    assert.equal(await page.locator('#hostkey-fingerprint').textContent(), env.bastion.hostKeyFingerprint);
    await dialog.getByRole('button', { name: 'Accept', exact: true }).click();
    await page.locator('#hostkey-target').filter({ hasText: `127.0.0.3:${env.target.port}` }).waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#hostkey-target').textContent(), `127.0.0.3:${env.target.port}`);
    await dialog.getByRole('button', { name: 'Accept', exact: true }).click();
    await waitForState(page, 'connected', 30_000);
    await waitForScreen(page, TEST_PROMPT.trim(), 20_000);
  });

  void it('axe and Tab: the connect form with the jump host section open (each login method)', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#jump-section').getAttribute('open'), null, 'collapsed by default');
    assert.equal(await page.getByLabel('Jump host', { exact: true }).isVisible(), false);
    await page.getByText('Advanced: jump host').click();
    await assertAxeClean(page, 'the connect form with the jump host section open');
    await assertKeyboardReachable(page, 'the form with the jump host section open', '#connect-form', { fromTop: true });
    await page.getByLabel('Jump host authentication', { exact: true }).selectOption('publickey');
    assert.equal(await page.getByLabel('Jump host private key', { exact: true }).isVisible(), true);
    assert.equal(await page.getByLabel('Jump host password', { exact: true }).isVisible(), false);
    await assertAxeClean(page, 'the jump host section with a private key');
  });
});
