/**
 * The browser page end to end: headless Chromium (Debian's /usr/bin/chromium via playwright-core)
 * loads the page from the real bridge and drives it like a person, against a real OpenSSH sshd.
 * One browser per file; every test opens its own page (browser context) and closes it.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 *
 * Everything is observed through the page's test hooks (`window.__uwsb`: state, screenText, term,
 * lastError, bytesAcked, bytesReceived) and through the frames Chromium actually sent
 * (playwright's `websocket` events), never by reaching into the page's internals.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { startBridge } from '../helpers/bridge.js';
import type { SshdHandle } from '../helpers/sshd.js';
import {
  describePage, focusTerminal, login, recordWsFrames, snapshot, typeLine, waitForPage, waitForScreen, waitForState,
  type PageGlobals,
} from '../helpers/browser.js';
import { changedKeyBridge, loginInPage, openTestPage, startTofuBridge, usePageFixture } from '../helpers/page-fixture.js';
import { saveScreenshot } from '../helpers/screenshots.js';
import { VERSION } from '../../src/version.js';

const PROMPT = 'uwsb$';
const MiB = 1024 * 1024;

/** Chromium's own log line for a WebSocket that could not connect: expected while the network is down. */
const WS_FAILED = /WebSocket connection to '.*' failed/;

void describe('web page in Chromium against a real OpenSSH sshd', () => {
  // The host key dialog has its own test (startTofuBridge below).
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

  /** Log in through the form (without waiting for config.json first, as this file always did) up to the shell prompt. */
  const connectShell = (page: Page, s: SshdHandle): Promise<void> => loginInPage(page, s, { waitForForm: false });

  const termSize = (page: Page): Promise<{ rows: number; cols: number }> =>
    page.evaluate(() => {
      const term = (globalThis as unknown as PageGlobals).__uwsb?.term;
      return { rows: term?.rows ?? 0, cols: term?.cols ?? 0 };
    });

  let tagSeq = 0;
  /** Run `stty size` in the terminal; returns the PTY's "rows cols" as the remote side sees it. */
  async function remoteSize(page: Page): Promise<{ rows: number; cols: number }> {
    const tag = `sz${++tagSeq}`;
    await typeLine(page, `clear; echo "${tag}:$(stty size):${tag}"`);
    const screen = await waitForScreen(page, new RegExp(`${tag}:\\d+ \\d+:${tag}`), 15_000);
    const m = new RegExp(`${tag}:(\\d+) (\\d+):${tag}`).exec(screen);
    return { rows: Number(m?.[1]), cols: Number(m?.[2]) };
  }

  void it('the form\'s footer names the bridge and its version (package.json\'s)', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await page.locator('#version').filter({ hasText: 'webssh-bridge' }).waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#version').textContent(), `webssh-bridge ${VERSION}`);
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
  });

  void it('connects through the form by its labels and runs a command on the target', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const frames = recordWsFrames(page);
    await connectShell(page, env.sshd);
    await typeLine(page, 'echo $((6*7))-$(id -un)');
    await waitForScreen(page, '42-uwsbtest', 15_000);

    const auth = frames.sentJson().find((m) => m.type === 'auth');
    assert.ok(auth, `no auth frame sent; frames: ${JSON.stringify(frames.sentJson())}`);
    assert.ok(frames.receivedJson().some((m) => m.type === 'ready'), `the bridge answered in protocol v1 (a 'ready' message); received: ${JSON.stringify(frames.receivedJson())}`);
    assert.equal(auth.flowControl, true, 'the page asks for render acknowledgements');
    assert.equal(auth.username, env.sshd.username);
    const shown = await snapshot(page);
    assert.ok(!shown.screen.includes(env.sshd.password), 'the password never appears on screen');
    // Everything received so far gets acknowledged once xterm parsed it (nothing is in flight now).
    const acked = await page.evaluate(async () => {
      const h = (globalThis as unknown as PageGlobals).__uwsb;
      if (h === undefined) return { acked: -1, received: -1 };
      for (let i = 0; i < 100 && h.bytesAcked() < h.bytesReceived(); i++) await new Promise((r) => setTimeout(r, 50));
      return { acked: h.bytesAcked(), received: h.bytesReceived() };
    });
    assert.ok(acked.received > 0, 'output was received');
    assert.equal(acked.acked, acked.received, `every rendered byte is acknowledged: ${JSON.stringify(acked)}`);
    assert.ok(frames.sentJson().some((m) => m.type === 'ack'), 'ack messages were sent');
    assert.deepEqual(errors, [], 'no console or page errors');

    // The README's screenshot comes from here (helpers/screenshots.ts: dist/screenshots/terminal.png,
    // and docs/screenshots/ with `UWSB_SCREENSHOT_DIR=docs/screenshots npm test`).
    await typeLine(page, 'clear; uname -sr; printf "\\342\\234\\223 UTF-8: h\\303\\251llo w\\303\\266rld\\n"; seq 1 100 | paste -sd+ | bc');
    await waitForScreen(page, '5050', 15_000);
    await saveScreenshot(page, 'terminal');
  });

  void it('sends the fitted size on auth and follows window resizes (stty size = term.rows term.cols)', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1000, height: 700 });
    const frames = recordWsFrames(page);
    await connectShell(page, env.sshd);

    // Right after connect, with no resize yet: the PTY already has the fitted size.
    const fitted = await termSize(page);
    assert.notDeepEqual(fitted, { rows: 24, cols: 80 }, 'a 1000x700 viewport is not fitted to 80x24');
    const auth = frames.sentJson().find((m) => m.type === 'auth');
    assert.deepEqual({ rows: auth?.rows, cols: auth?.cols }, fitted, 'the FIRST size sent (on auth) is the fitted size');
    assert.deepEqual(await remoteSize(page), fitted, `stty size right after connect; ${await describePage(page)}`);

    for (const viewport of [{ width: 640, height: 420 }, { width: 1280, height: 860 }]) {
      const beforeSize = await termSize(page);
      await page.setViewportSize(viewport);
        const deadline = Date.now() + 10_000;
      let now = await termSize(page);
      while (now.rows === beforeSize.rows && now.cols === beforeSize.cols && Date.now() < deadline) {
        await sleep(100);
        now = await termSize(page);
      }
      assert.notDeepEqual(now, beforeSize, `the terminal refits after the viewport becomes ${viewport.width}x${viewport.height}`);
      // The resize message may be debounced: poll stty size until it catches up (bounded).
      let remote = await remoteSize(page);
      for (let i = 0; i < 20 && (remote.rows !== now.rows || remote.cols !== now.cols); i++) {
        await sleep(250);
        now = await termSize(page);
        remote = await remoteSize(page);
      }
      assert.deepEqual(remote, await termSize(page), `stty size after resizing to ${viewport.width}x${viewport.height}; ${await describePage(page)}`);
    }
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a 100 KB paste arrives whole (sha256 on the target matches)', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await connectShell(page, env.sshd);
    const size = 102_400;
    // Printable ASCII 0x21..0x7e, no newline, not a repeating 26-byte pattern.
    let paste = '';
    for (let i = 0; i < size; i++) paste += String.fromCharCode(0x21 + ((i * 7919 + (i >> 10)) % 94));
    const digest = createHash('sha256').update(paste).digest('hex');

    // Raw mode first (a canonical-mode line is cut at 4095 bytes), and only paste once it is in effect.
    await typeLine(page, `clear; stty -icanon -echo; echo PASTE-$((40+2)); head -c ${size} | sha256sum; stty sane`);
    await waitForScreen(page, 'PASTE-42', 15_000);
    // The paste path a person uses: a paste event on xterm's focused textarea carrying text/plain.
    // Dispatching a ClipboardEvent with a DataTransfer works headless with no clipboard permission;
    // Ctrl+Shift+V would need the async Clipboard API and a granted permission instead.
    await focusTerminal(page);
    const dispatched = await page.evaluate((text) => {
      const g = globalThis as unknown as PageGlobals;
      const target = g.document.querySelector('#terminal textarea') ?? g.document.activeElement;
      if (target === null) return false;
      const data = new g.DataTransfer();
      data.setData('text/plain', text);
      target.dispatchEvent(new g.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      return true;
    }, paste);
    assert.ok(dispatched, 'found the terminal textarea to paste into');
    const screen = await waitForScreen(page, /^[0-9a-f]{64}\s+-$/m, 60_000);
    const got = /^([0-9a-f]{64})\s+-$/m.exec(screen)?.[1];
    assert.equal(got, digest, `sha256 of the ${size}-byte paste as the target read it; ${await describePage(page)}`);
    await waitForScreen(page, new RegExp(`${PROMPT.replace('$', '\\$')}\\s*$`), 15_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a multi-byte UTF-8 stream (CJK, emoji) spanning many frames renders without U+FFFD', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await connectShell(page, env.sshd);
    const text = '你好世界 😀 日本語テキスト ñandú Ωμέγα ≠ 𝄞 한국어';
    // The command line stays ASCII (printf \xHH escapes); only the output carries UTF-8. A varying
    // ASCII prefix shifts every multi-byte character across frame boundaries.
    const escaped = [...Buffer.from(text, 'utf8')].map((b) => (b < 0x80 ? String.fromCharCode(b) : `\\x${b.toString(16)}`)).join('');
    const lines = 1500;
    await typeLine(page, `clear; for i in $(seq 1 ${lines}); do printf '%0*d L%05d ${escaped}\\n' $((i % 7)) 0 "$i"; done; echo UTF-$((4+4))-done`);
    const screen = await waitForScreen(page, 'UTF-8-done', 60_000);
    assert.ok(screen.includes('你好世界'), `CJK on screen; screen:\n${screen}`);
    assert.ok(screen.includes('😀'), `emoji on screen; screen:\n${screen}`);
    assert.ok(screen.includes(`L${String(lines).padStart(5, '0')} ${text}`), `the last line is intact; screen:\n${screen}`);
    assert.ok(!screen.includes('\uFFFD'), `no replacement character on screen; screen:\n${screen}`);
    // The whole buffer (scrollback too): every generated line is exactly the text, nothing replaced.
    const buffer = await page.evaluate(() => {
      const buf = (globalThis as unknown as PageGlobals).__uwsb?.term.buffer.active;
      const out: string[] = [];
      if (buf === undefined) return out;
      for (let i = 0; i < buf.length; i++) out.push(buf.getLine(i)?.translateToString(true) ?? '');
      return out;
    });
    const generated = buffer.filter((l) => /^\d* ?L\d{5} /.test(l));
    assert.ok(generated.length > 100, `the buffer holds many generated lines (${generated.length})`);
    const bad = generated.filter((l) => !l.endsWith(` ${text}`));
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} of ${generated.length} lines are not rendered exactly`);
    assert.ok(!buffer.some((l) => l.includes('\uFFFD')), 'no U+FFFD anywhere in the buffer');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a wrong password shows "Authentication failed" in the alert and is not retried', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const failures = (): number => (env.sshd.log().match(/Failed password for uwsbtest/g) ?? []).length;
    const before = failures();
    await login(page, { host: env.sshd.host, port: env.sshd.port, username: env.sshd.username, password: 'definitely-Wrong-pw-9' });
    await waitForPage(page, (s) => /authentication failed/i.test(s.error ?? ''), 'lastError() matching /authentication failed/i', 30_000);
    const alert = page.getByRole('alert');
    assert.match((await alert.textContent()) ?? '', /authentication failed/i, 'the role=alert element says so');
    // A rejected password is final: no automatic reconnect that would hammer the account.
    await sleep(3000);
    const s = await snapshot(page);
    assert.ok(s.state === 'closed' || s.state === 'idle', `no reconnect after an auth failure; ${await describePage(page)}`);
    assert.equal(failures() - before, 1, `sshd saw exactly one failed password; sshd log tail:\n${env.sshd.log().slice(-2000)}`);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('an unknown host key is asked in a dialog: Reject is final, Accept shows the shell and stores the key', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { bridge: tofu, file } = await startTofuBridge(t);
    const { page, errors } = await openTestPage(t, env.browser, `${tofu.url}/`);
    const frames = recordWsFrames(page);
    const target = { host: env.sshd.host, port: env.sshd.port, username: env.sshd.username, password: env.sshd.password };
    const dialog = page.getByRole('dialog', { name: 'Unknown host key' });

    await login(page, target);
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    const text = (await dialog.textContent()) ?? '';
    for (const part of [`127.0.0.1:${env.sshd.port}`, 'ssh-ed25519', env.sshd.hostKeyFingerprint]) assert.ok(text.includes(part), `the dialog shows ${part}: ${text}`);
    assert.equal(await dialog.getAttribute('aria-modal'), 'true');
    const font = await page.locator('#hostkey-fingerprint').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { fontFamily: string } }).getComputedStyle(el).fontFamily);
    assert.match(font, /monospace/, 'the fingerprint is in a monospace font');
    await page.getByRole('button', { name: 'Reject', exact: true }).click();
    await waitForPage(page, (s) => /rejected the host key/i.test(s.error ?? ''), 'lastError() about the rejected host key', 20_000);
    assert.ok(!(await dialog.isVisible()), 'the dialog is gone');
    await sleep(2000);
    const after = await snapshot(page);
    assert.ok(after.state === 'closed' || after.state === 'idle', `no reconnect after 4002; ${await describePage(page)}`);
    assert.equal(frames.urls().length, 1, 'one WebSocket only: 4002 is never retried');
    assert.ok(!existsSync(file), 'nothing stored after Reject');

    await login(page, target);
    await dialog.waitFor({ state: 'visible', timeout: 20_000 });
    await page.getByRole('button', { name: 'Accept', exact: true }).click();
    await waitForState(page, 'connected', 20_000);
    await waitForScreen(page, PROMPT, 20_000);
    await typeLine(page, 'echo hk-$((40+2))');
    await waitForScreen(page, 'hk-42', 15_000);
    const replies = frames.sentJson().filter((m) => m.type === 'hostkey-reply');
    assert.deepEqual(replies, [{ type: 'hostkey-reply', accept: false }, { type: 'hostkey-reply', accept: true }]);
    assert.ok(readFileSync(file, 'utf8').includes(`[127.0.0.1]:${env.sshd.port} ${env.sshd.hostPublicKey.split(' ').slice(0, 2).join(' ')}`), 'the accepted key is in known_hosts');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a changed host key is refused: the alert warns of a possible attack, shows both fingerprints, no retry', { timeout: 60_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { bridge: tofu, stored: wrong } = await changedKeyBridge(t, env.sshd);
    const { page, errors } = await openTestPage(t, env.browser, `${tofu.url}/`);
    const frames = recordWsFrames(page);
    await login(page, { host: env.sshd.host, port: env.sshd.port, username: env.sshd.username, password: env.sshd.password });
    await waitForPage(page, (s) => /attack/i.test(s.error ?? ''), 'lastError() warning of an attack', 20_000);
    const alert = (await page.getByRole('alert').textContent()) ?? '';
    assert.ok(alert.includes(wrong), `the stored fingerprint is shown: ${alert}`);
    assert.ok(alert.includes(env.sshd.hostKeyFingerprint), `the presented fingerprint is shown: ${alert}`);
    assert.ok(!(await page.getByRole('dialog', { name: 'Unknown host key' }).isVisible()), 'a changed key is never offered');
    await sleep(2000);
    assert.equal(frames.urls().length, 1, 'never retried');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('flood (cat of 64 MB) then Ctrl-C: a fresh prompt comes back quickly and the JS heap stays bounded', { timeout: 240_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const dir = mkdtempSync(join(tmpdir(), 'uwsb-flood-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    chmodSync(dir, 0o755);
    const file = join(dir, 'f');
    execFileSync('sh', ['-c', `head -c 48M /dev/urandom | base64 > '${file}'`]);
    chmodSync(file, 0o644);
    const fileBytes = statSync(file).size;

    // No frame recording here: relaying 64 MB of frame events to the test would slow the page.
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await connectShell(page, env.sshd);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const heap = async (): Promise<number> => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
    };
    const baseline = await heap();
    let maxHeap = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        try { maxHeap = Math.max(maxHeap, await heap()); } catch { /* page closing */ }
        await sleep(200);
      }
    })();
    t.after(async () => { sampling = false; await sampler; });

    const received = (): Promise<number> => page.evaluate(() => (globalThis as unknown as PageGlobals).__uwsb?.bytesReceived() ?? 0);
    const startBytes = await received();
    await typeLine(page, `cat '${file}'`);
    // The flood is flowing (at least 1 MiB rendered), then let it run about a second more.
    const floodDeadline = Date.now() + 30_000;
    while ((await received()) - startBytes < MiB) {
      if (Date.now() > floodDeadline) throw new Error(`flood did not start within 30 s; ${await describePage(page)}`);
      await sleep(100);
    }
    await sleep(1000);
    const atInterrupt = (await received()) - startBytes;
    const t0 = Date.now();
    await page.keyboard.press('Control+c');
    // Wait for the prompt on the last line (base64 never contains '$'), then prove it is usable.
    await waitForScreen(page, /uwsb\$\s*$/, 60_000);
    const tPrompt = Date.now() - t0;
    await page.keyboard.type('echo ready-$((1+1))\n');
    await waitForScreen(page, /^ready-2$/m, 30_000);
    const elapsed = Date.now() - t0;
    sampling = false;
    await sampler;
    maxHeap = Math.max(maxHeap, await heap());
    const total = (await received()) - startBytes;
    const acked = await page.evaluate(() => (globalThis as unknown as PageGlobals).__uwsb?.bytesAcked() ?? 0);

    t.diagnostic(`flood: file ${(fileBytes / MiB).toFixed(1)} MiB; ${(atInterrupt / MiB).toFixed(1)} MiB received before Ctrl-C, ${(total / MiB).toFixed(1)} MiB in all; ${(acked / MiB).toFixed(1)} MiB acknowledged`);
    t.diagnostic(`Ctrl-C -> prompt ${tPrompt} ms, -> 'ready-2' ${elapsed} ms (goal: 3000 ms)`);
    const renderer = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelector('#terminal')?.getAttribute('data-renderer') ?? 'unknown');
    t.diagnostic(`xterm renderer: ${renderer}`);
    t.diagnostic(`JS heap: baseline ${(baseline / MiB).toFixed(1)} MiB, max during flood ${(maxHeap / MiB).toFixed(1)} MiB`);
    assert.ok(total < fileBytes, `Ctrl-C stopped the flood before the whole file was sent (${total} of ${fileBytes} bytes)`);
    assert.ok(elapsed < 15_000, `a usable prompt within 15 s of Ctrl-C (took ${elapsed} ms)`);
    assert.ok(maxHeap < 300 * MiB, `JS heap stays under 300 MiB (max ${(maxHeap / MiB).toFixed(1)} MiB)`);
    assert.ok(acked > startBytes + MiB, `the page acknowledged the rendered flood (${acked} bytes acked)`);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('under --base-path /ssh the page loads from /ssh/ and its WebSocket goes to /ssh/ws/…', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    // The bridge also answers paths outside the prefix, so only the URL the page dialed proves it is relative.
    const sub = await startBridge(['--base-path', '/ssh', '--host-key-policy', 'accept-new-insecure']);
    t.after(() => sub.close());
    const { page, errors } = await openTestPage(t, env.browser, `${sub.url}/ssh/`);
    const frames = recordWsFrames(page);
    await connectShell(page, env.sshd);
    await typeLine(page, 'echo base-$((3*3))');
    await waitForScreen(page, 'base-9', 15_000);
    assert.deepEqual(frames.urls(), [`${sub.wsBase}/ssh/ws/127.0.0.1/${env.sshd.port}`]);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('reconnects after the network drops the WebSocket, and the new shell works', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const proxy = await startTcpProxy(env.bridge.port);
    t.after(() => proxy.close());
    // The page is loaded through the proxy, so its WebSocket goes through it too (same origin).
    const { page, errors } = await openTestPage(t, env.browser, `http://127.0.0.1:${proxy.port}/`);
    await connectShell(page, env.sshd);
    await typeLine(page, 'echo first-$((1+2))');
    await waitForScreen(page, 'first-3', 15_000);

    // Network outage: cut every proxied connection (RST) and refuse new ones for a while.
    proxy.block(true);
    proxy.drop();
    await waitForState(page, 'reconnecting', 15_000);
    const reconnectButton = page.getByRole('button', { name: 'Reconnect' });
    assert.ok(await reconnectButton.isVisible(), `a Reconnect button is offered after an abnormal close; ${await describePage(page)}`);
    await sleep(1500);
    const during = await snapshot(page);
    assert.ok(during.state === 'reconnecting' || during.state === 'connecting', `still trying while the network is down; ${await describePage(page)}`);

    proxy.block(false);
    await waitForState(page, 'connected', 45_000);
    await waitForScreen(page, PROMPT, 20_000);
    await typeLine(page, 'echo again-$((2+3))');
    await waitForScreen(page, 'again-5', 15_000);
    assert.ok(proxy.accepted() >= 2, `the page opened a new connection (${proxy.accepted()} accepted)`);
    assert.deepEqual(errors.filter((e) => !WS_FAILED.test(e)), [], 'no console or page errors besides the failed reconnect attempts');
  });
});

