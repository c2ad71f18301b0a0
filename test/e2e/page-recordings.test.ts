/**
 * The operators' recordings view in headless Chromium against the real bridge (`--record-dir`,
 * `--auth-tokens`) with a recording made by a real session through the bridge to the in-process
 * SSH server, and two older recordings written into the directory by the test (other users,
 * targets and days, one named by a node of a cluster): with an admin token the page lists them and the bundled asciinema player
 * (under the page's strict CSP) plays one in a dialog over the list, showing the session's text;
 * the list does not move and the player's controls stay in the window; Close and Escape close
 * it; Download saves the .cast file as the gateway has it; the filter narrows the rows by user,
 * target and day; at 390x844 nothing scrolls sideways; the way back names what is behind the view
 * (the terminal or the connect form); a plain token gets ADMIN_REQUIRED.
 * Fails (never skips) under CI=true when Chromium is missing.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { newToken } from '../../src/auth/tokens.js';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { chromiumAvailable, launchBrowser } from '../helpers/browser.js';
import { loginInPage, openTestPage, requirePageDeps } from '../helpers/page-fixture.js';
import { registerSecret } from '../helpers/secrets.js';
import { FAKE_PROMPT, startFakeSsh, type FakeSshHandle } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';

const MARKER = 'played-back-marker-9031';

/**
 * Two older recordings the test writes into the directory: other users, targets and days (noon UTC:
 * the same day in any time zone within ±11 h); dave's has the name a node of a cluster gives (gw-2).
 */
const OLDER = [
  { name: `20240102T120000Z-${'a'.repeat(32)}.cast`, username: 'carol', target: 'db.example:22', start: Date.UTC(2024, 0, 2, 12), day: '2024-01-02' },
  { name: `20240305T120000Z-gw-2-${'b'.repeat(32)}.cast`, username: 'dave', target: 'web.example:2222', start: Date.UTC(2024, 2, 5, 12), day: '2024-03-05' },
] as const;

function castFile(r: (typeof OLDER)[number]): string {
  const header = { version: 2, width: 80, height: 24, timestamp: r.start / 1000, title: `${r.username}@${r.target}`, webssh_bridge: { session: r.name.slice(-37, -5), subject: 'ops' } };
  return `${JSON.stringify(header)}\n[0.5,"o","${r.username} was here\\r\\n"]\n[2.25,"o","bye\\r\\n"]\n`;
}

/** The names of the rows the table shows, in order. */
const rowNames = (page: Page): Promise<string[]> => page.locator('#recordings-body tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { name?: string } }).dataset.name ?? ''));

/** Open the recordings view with the admin token and wait for the real session's row. */
async function openView(page: Page, sessionId: string): Promise<void> {
  await page.getByRole('heading', { name: 'Recordings' }).waitFor({ state: 'visible' });
  await page.locator(`tr[data-name$="-${sessionId}.cast"]`).waitFor({ state: 'visible', timeout: 20_000 });
}
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
    for (const r of OLDER) writeFileSync(join(dir, 'casts', r.name), castFile(r), { mode: 0o600 });
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
    await page.getByRole('dialog').waitFor({ state: 'visible' });
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

    // The way back, with the player open (a link in the page's address, #): the view and the player go away.
    await page.evaluate(() => { (globalThis as unknown as { location: { hash: string } }).location.hash = ''; });
    await page.locator('#recordings-screen').waitFor({ state: 'hidden' });
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#recordings-player .ap-term').count(), 0);
  });

  void it('the player is a dialog over the list: the list stays put, the controls are in the window; Close and Escape close it', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(admin)}&recordings`, { width: 1000, height: 700 });
    await openView(page, sessionId);
    const row = page.locator(`tr[data-name$="-${sessionId}.cast"]`);
    const before = await row.boundingBox();
    const play = row.getByRole('button', { name: /^Play / });
    await play.click();
    const dialog = page.getByRole('dialog', { name: `alice@127.0.0.1:${env.ssh.port}` });
    await dialog.waitFor({ state: 'visible' });
    assert.equal(await dialog.evaluate((d) => (d as unknown as { matches(s: string): boolean }).matches(':modal')), true, 'a modal dialog');
    const bar = page.locator('#recordings-player .ap-control-bar');
    await bar.waitFor({ state: 'visible', timeout: 20_000 });
    const box = await bar.boundingBox();
    assert.ok(box !== null && box.y >= 0 && box.y + box.height <= 700, `the player's controls are inside the 700 px window: ${JSON.stringify(box)}`);
    assert.deepEqual(await row.boundingBox(), before, 'the list did not move');

    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#recordings-player .ap-term').count(), 0, 'the player is gone');
    assert.equal(await play.evaluate((b) => b === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement), true, 'the focus is back on Play');

    await play.click();
    await bar.waitFor({ state: 'visible', timeout: 20_000 });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await page.locator('#recordings-player .ap-term').count(), 0, 'Escape closed it too');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('Download saves the .cast file as the gateway has it, from the row and from the player', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined || dir === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(admin)}&recordings`);
    await openView(page, sessionId);
    const row = page.locator(`tr[data-name$="-${sessionId}.cast"]`);
    const name = (await row.getAttribute('data-name')) ?? '';
    const onDisk = readFileSync(join(dir, 'casts', name));
    for (const pressed of [
      () => row.getByRole('button', { name: /^Download / }).click(),
      async () => {
        await row.getByRole('button', { name: /^Play / }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Download .cast' }).click();
      },
    ]) {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), pressed()]);
      assert.equal(download.suggestedFilename(), name, 'saved under the recording\'s name');
      const path = await download.path();
      assert.ok(readFileSync(path).equals(onDisk), 'the same bytes as the file in the record directory');
    }
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the filter narrows the rows by user or identity, target and days', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(admin)}&recordings`);
    await openView(page, sessionId);
    const real = (await page.locator(`tr[data-name$="-${sessionId}.cast"]`).getAttribute('data-name')) ?? '';
    const [carol, dave] = [OLDER[0].name, OLDER[1].name];
    assert.deepEqual(await rowNames(page), [real, dave, carol], 'all, newest first');
    // The node that wrote a recording, after its start; none for the names of one node.
    assert.match(await page.locator(`tr[data-name="${dave}"] td`).first().innerText(), /on gw-2$/);
    assert.equal(await page.locator(`tr[data-name="${dave}"]`).getAttribute('data-node'), 'gw-2');
    assert.doesNotMatch(await page.locator(`tr[data-name="${carol}"] td`).first().innerText(), / on /);
    const info = page.locator('#recordings-info');

    await page.getByLabel('User', { exact: true }).fill('CAR');
    assert.deepEqual(await rowNames(page), [carol]);
    assert.equal(await info.innerText(), 'Showing 1 of 3 recordings.');
    await page.getByLabel('User', { exact: true }).fill('');
    await page.getByLabel('Target', { exact: true }).fill('web.example');
    assert.deepEqual(await rowNames(page), [dave]);
    await page.getByLabel('Target', { exact: true }).fill(`:${env.ssh.port}`);
    assert.deepEqual(await rowNames(page), [real]);
    await page.getByRole('button', { name: 'Clear filter' }).click();
    assert.deepEqual(await rowNames(page), [real, dave, carol], 'Clear filter shows all again');
    assert.equal(await page.getByLabel('Target', { exact: true }).inputValue(), '', 'and empties the fields');

    await page.getByLabel('From', { exact: true }).fill('2024-03-01');
    assert.deepEqual(await rowNames(page), [real, dave], 'from a day on');
    await page.getByLabel('To', { exact: true }).fill(OLDER[1].day);
    assert.deepEqual(await rowNames(page), [dave], 'both days included');
    await page.getByLabel('From', { exact: true }).fill(OLDER[0].day);
    await page.getByLabel('To', { exact: true }).fill(OLDER[0].day);
    assert.deepEqual(await rowNames(page), [carol], 'one day');
    await page.getByLabel('User', { exact: true }).fill('ops'); // the gateway identity of the older ones
    assert.deepEqual(await rowNames(page), [carol]);
    await page.getByLabel('User', { exact: true }).fill('dave');
    assert.deepEqual(await rowNames(page), [], 'nothing matches');
    assert.equal(await info.innerText(), 'Showing 0 of 3 recordings.');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('on a phone (390x844) nothing scrolls sideways: each recording is a block of labelled lines', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(admin)}&recordings`, { width: 390, height: 844 });
    await openView(page, sessionId);
    const overflow = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ id: string; className: string; scrollWidth: number; clientWidth: number }> } }).document;
      return Array.from(d.querySelectorAll('#recordings-screen, #recordings-screen *'))
        .filter((el) => el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 1) // 1 px: the clipped, visually hidden headings
        .map((el) => `${el.id || el.className}: ${el.scrollWidth} > ${el.clientWidth}`);
    });
    assert.deepEqual(overflow, [], 'no element of the view is wider than its box');
    for (const box of await page.locator('#recordings-body tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { getBoundingClientRect(): { left: number; right: number } }).getBoundingClientRect()))) {
      assert.ok(box.left >= 0 && box.right <= 390, `a row inside the 390 px window: ${JSON.stringify(box)}`);
    }
    const row = page.locator(`tr[data-name$="-${sessionId}.cast"]`);
    const user = row.locator('td').nth(1);
    assert.equal(await user.innerText(), 'alice');
    assert.equal(await user.evaluate((td) => (globalThis as unknown as { getComputedStyle(e: unknown, p: string): { content: string } }).getComputedStyle(td, '::before').content), '"User"', 'each value has its label');
    await row.getByRole('button', { name: /^Play / }).click();
    const bar = page.locator('#recordings-player .ap-control-bar');
    await bar.waitFor({ state: 'visible', timeout: 20_000 });
    const box = await bar.boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844, `the player's controls fit the phone: ${JSON.stringify(box)}`);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('the way back names what is behind the view: the connect form without a session, the terminal with one', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    // No token in this tab and no session: the view asks for a token, and there is no terminal.
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#recordings`);
    await page.getByLabel('Operator access token').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await page.getByRole('link', { name: 'Back to the terminal' }).count(), 0, 'no "Back to the terminal" without a terminal');
    await page.getByRole('link', { name: 'Back to the connect form' }).click();
    await page.getByLabel('Access token', { exact: true }).waitFor({ state: 'visible' });

    // With a session on screen: back to it.
    await page.getByLabel('Access token', { exact: true }).fill(admin);
    await loginInPage(page, env.ssh, { prompt: FAKE_PROMPT.trim() });
    await page.getByRole('link', { name: 'Recordings' }).click();
    await openView(page, sessionId);
    await page.getByRole('link', { name: 'Back to the terminal' }).click();
    await page.locator('#recordings-screen').waitFor({ state: 'hidden' });
    assert.ok(await page.locator('#terminal').isVisible(), 'the terminal is there');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a recording still being written is shown as running, not as a finished one', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const ws = await openWs(`${env.bridge.wsBase}/ws/127.0.0.1/${env.ssh.port}`, { protocol: 'webssh-bridge.v1', headers: { Authorization: `Bearer ${plain}` } });
    t.after(() => ws.close());
    ws.sendJson({ type: 'auth', username: env.ssh.username, password: env.ssh.password, cols: 80, rows: 24 });
    const live = ((await ws.waitForControl((m) => (m as { type?: string }).type === 'ready')) as { sessionId: string }).sessionId;
    await ws.waitForOutput(FAKE_PROMPT);
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(admin)}&recordings`);
    const row = page.locator(`tr[data-name$="-${live}.cast"]`);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await row.locator('td').nth(5).innerText(), /^Running/, 'the Duration cell says it runs');
    await row.getByRole('button', { name: /^Play / }).click();
    await page.getByText(/still running/).waitFor({ state: 'visible', timeout: 20_000 });
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
