/**
 * The operators' recordings view in headless Chromium against the real bridge (`--record-dir`,
 * `--auth-tokens`) with a recording made by a real session through the bridge to the in-process
 * SSH server: with an admin token the page lists it and the bundled asciinema player (under the
 * page's strict CSP) plays it, showing the session's text; a plain token gets ADMIN_REQUIRED.
 * Fails (never skips) under CI=true when Chromium is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Request } from 'playwright-core';
import { newToken } from '../../src/auth/tokens.js';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { chromiumAvailable, launchBrowser } from '../helpers/browser.js';
import { openTestPage, requirePageDeps } from '../helpers/page-fixture.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';

const MARKER = 'played-back-marker-9031';
/** Console noise that is the point of a test: the refused listing request. */
const EXPECTED_NOISE = /Failed to load resource: the server responded with a status of 403/;

void describe('page: recordings view (asciinema player)', () => {
  let browser: Browser | undefined;
  let ssh: FakeSshHandle | undefined;
  let bridge: BridgeHandle | undefined;
  let dir: string | undefined;
  let admin = '';
  let plain = '';
  let sessionId = '';

  before(async () => {
    if (!chromiumAvailable()) return;
    dir = mkdtempSync(join(tmpdir(), 'uwsb-page-rec-'));
    const a = newToken('ops', true);
    const p = newToken('dev');
    admin = registerSecret(a.token);
    plain = registerSecret(p.token);
    writeFileSync(join(dir, 'tokens'), `${a.line}\n${p.line}\n`, { mode: 0o600 });
    ssh = await startFakeSsh();
    bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', '--auth-tokens', join(dir, 'tokens'), '--record-dir', join(dir, 'casts')]);
    // A real session through the bridge makes the recording.
    const ws = await openWs(`${bridge.wsBase}/ws/127.0.0.1/${ssh.port}`, { protocol: 'webssh-bridge.v1', headers: { Authorization: `Bearer ${plain}` } });
    ws.sendJson({ type: 'auth', username: ssh.username, password: ssh.password, cols: 80, rows: 24 });
    sessionId = ((await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { sessionId: string }).sessionId;
    await ws.waitForOutput(FAKE_PROMPT);
    ws.sendBinary(Buffer.from(`${MARKER}\r`));
    await ws.waitForOutput(MARKER);
    ws.sendBinary(Buffer.from('exit 0\r'));
    await ws.closed;
    const end = Date.now() + 10_000;
    while (!bridge.logs().some((l) => l['event'] === 'recording_finished')) {
      if (Date.now() > end) throw new Error('the recording was not finished');
      await new Promise((r) => setTimeout(r, 20));
    }
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    try {
      await bridge?.close(); // also the log scan: no token in any log line
    } finally {
      await ssh?.close();
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    }
  });

  function ready(t: TestContext): { browser: Browser; bridge: BridgeHandle; ssh: FakeSshHandle } | undefined {
    if (!requirePageDeps(t, { sshd: false })) return undefined;
    assert.ok(browser && bridge && ssh, 'before() did not start everything');
    return { browser, bridge, ssh };
  }

  void it('an admin token lists the recording and the player shows what the session showed', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(admin)}`);
    const api: Array<{ url: string; authorization: string | undefined }> = [];
    page.on('request', (req: Request) => {
      if (req.url().includes('/api/recordings')) api.push({ url: req.url(), authorization: req.headers()['authorization'] });
    });

    const link = page.getByRole('link', { name: 'Recordings' });
    await link.waitFor({ state: 'visible' });
    await link.click();
    await page.getByRole('heading', { name: 'Recordings' }).waitFor({ state: 'visible' });
    const row = page.locator(`tr[data-name$="-${sessionId}.cast"]`);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    const cells = await row.locator('td').allInnerTexts();
    assert.equal(cells[1], env.ssh.username, `user column: ${JSON.stringify(cells)}`);
    assert.equal(cells[2], `127.0.0.1:${env.ssh.port}`, 'target column');
    assert.equal(cells[3], 'dev', 'the gateway identity that made the session');
    assert.match(cells[4] ?? '', /^\d+(\.\d)? (B|KiB)$/, 'size');
    assert.match(cells[5] ?? '', /^\d+:\d\d$/, 'duration');

    await row.getByRole('button', { name: /^Play / }).click();
    const term = page.locator('#recordings-player .ap-term');
    await term.waitFor({ state: 'visible', timeout: 20_000 });
    const deadline = Date.now() + 20_000;
    let text = '';
    while (!text.includes(MARKER)) {
      text = await term.innerText();
      if (Date.now() > deadline) assert.fail(`the player never showed the marker; its terminal shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(text.includes(FAKE_PROMPT.trim()), `the fake shell's prompt is replayed too:\n${text}`);

    assert.ok(api.length >= 2, `listing and file were fetched: ${JSON.stringify(api.map((a) => a.url))}`);
    for (const a of api) assert.equal(a.authorization, `Bearer ${admin}`, `${a.url} carries the token`);
    assert.ok(api.some((a) => a.url.endsWith(`-${sessionId}.cast`)), 'the file came from the authenticated route');
    assert.deepEqual(errors, [], 'no console or page errors (the CSP lets the player run)');

    const fetched = env.bridge.logs().filter((l) => l['event'] === 'recording_fetched');
    assert.ok(fetched.some((l) => l['subject'] === 'ops' && String(l['name']).endsWith(`-${sessionId}.cast`)), 'audited with the subject');

    // Back to the terminal: the view goes away, and the player with it.
    await page.getByRole('link', { name: 'Back to the terminal' }).click();
    await page.locator('#recordings-screen').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#recordings-player .ap-term').count(), 0);
  });

  void it('a token that is not an operator\'s is told ADMIN_REQUIRED, and no row is shown', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(plain)}&recordings`);
    const error = page.locator('#recordings-error');
    await page.getByText('ADMIN_REQUIRED').waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await error.innerText(), /^ADMIN_REQUIRED: this access token is not an operator's/);
    assert.equal(await page.locator('#recordings-body tr').count(), 0);
    assert.ok(!page.url().includes(plain), 'the token left the address bar');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no other console or page errors');
  });
});
