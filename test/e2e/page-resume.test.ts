/**
 * Session resume from the page (docs/protocol.md#resume), in headless Chromium (Debian's
 * /usr/bin/chromium via playwright-core) against the real bridge and a real OpenSSH sshd:
 *
 * - a network gone silent (a proxy that stops forwarding, closing nothing) is noticed within
 *   seconds, and what was typed into the dead socket and while waiting arrives once, in order;
 * - a network drop in the middle of `seq 1 100000` (the page behind a TCP proxy that resets its
 *   connections): the page resumes on a new socket and every number arrives exactly once, in order
 *   (checked on the bytes the page handed to xterm.js, not on the scrolling screen);
 * - a reload restores the screen from sessionStorage and continues the same shell (same `$$`);
 * - refusals: a burnt token (4007) brings the pre-filled form back, a session kept past the
 *   bridge's grace period falls back to a new login with a visible note;
 * - a second page resuming the same record takes the session over: the first one says so (4008)
 *   and does not reconnect; a restarting bridge (1012) ends the session with its own sentence;
 * - with gateway authentication the reload's resume fetches a fresh ticket first.
 *
 * No timing assertions but one: the silent network must be noticed well before the old 20 s pong
 * deadline (the feature is the bound; 12 s leaves more than twice its 5 s for a loaded machine).
 * Every other wait is a generous wait for a condition.
 * Fails (never skips) under CI=true when sshd or Chromium is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { startBridge } from '../helpers/bridge.js';
import { registerSecret } from '../helpers/secrets.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import {
  describePage, disconnect, focusTerminal, recordWsFrames, snapshot, typeLine, until, waitForPage, waitForScreen, waitForState, type UwsbHooks,
} from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';

const PROMPT = 'uwsb$';
const META_KEY = 'webssh-bridge.resume';
const SCREEN_KEY = 'webssh-bridge.resumeScreen';
const TOKEN = registerSecret(`gw-resume-${randomBytes(18).toString('base64url')}`);

/**
 * Console noise that is the point of a test: WebSockets and the reachability check failing while
 * the network is cut, a refused resume closing its socket.
 */
const EXPECTED_NOISE = /WebSocket connection to '.*' failed|Failed to load resource: net::ERR_/;

/** The page's test hooks, with the resume additions. */
interface ResumeHooks extends UwsbHooks {
  position(): number;
  parsedPosition(): number | null;
  sessionId(): string | null;
  resumeCount(): number;
  recordOutput(on: boolean): void;
  recordedOutput(): string;
}

/** The browser globals used here (the Node project has no DOM lib). */
interface Globals {
  readonly __uwsb?: ResumeHooks;
  readonly sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; readonly length: number; key(i: number): string | null };
}

const position = (page: Page): Promise<number> => page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.position() ?? -1);
const resumeCount = (page: Page): Promise<number> => page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.resumeCount() ?? -1);
const recordOutput = (page: Page): Promise<void> => page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.recordOutput(true));
const recordedOutput = (page: Page): Promise<string> => page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.recordedOutput() ?? '');

/** The tab's resume entries (sessionStorage), raw. */
const storedRecord = (page: Page): Promise<{ meta: string | null; screen: string | null; all: string }> => page.evaluate(([m, s]) => {
  const st = (globalThis as unknown as Globals).sessionStorage;
  let all = '';
  for (let i = 0; i < st.length; i++) all += `${st.key(i) ?? ''}=${st.getItem(st.key(i) ?? '') ?? ''}\n`;
  return { meta: st.getItem(m ?? ''), screen: st.getItem(s ?? ''), all };
}, [META_KEY, SCREEN_KEY]);

void describe('page: session resume (network drop, reload, takeover) in Chromium against a real sshd', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

  let tagSeq = 0;
  /** The shell's PID (`$$`), read through the terminal. */
  async function shellPid(page: Page): Promise<string> {
    const tag = `pid${++tagSeq}x`;
    await typeLine(page, `echo ${tag}-$$-${tag}`);
    const screen = await waitForScreen(page, new RegExp(`${tag}-\\d+-${tag}`), 20_000);
    return new RegExp(`${tag}-(\\d+)-${tag}`).exec(screen)?.[1] ?? '';
  }

  void it('a network drop mid-output: the page resumes and seq 1 100000 arrives exactly once, in order', { timeout: 240_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const proxy = await startTcpProxy(env.bridge.port);
    t.after(() => proxy.close());
    const { page, errors } = await openTestPage(t, env.browser, `http://127.0.0.1:${proxy.port}/`);
    const frames = recordWsFrames(page);
    await loginInPage(page, env.sshd);
    const pid = await shellPid(page);
    assert.equal(frames.sentJson().find((m) => m.type === 'auth')?.resume, true, 'auth asks for a resumable session');
    const grant = frames.receivedJson().find((m) => m.type === 'ready')?.resume as { token?: unknown; graceMs?: unknown } | undefined;
    assert.equal(typeof grant?.token, 'string', `ready carries a resume token: ${JSON.stringify(frames.receivedJson())}`);

    await recordOutput(page);
    const start = await position(page);
    // seq's numbers, trickled (a short sleep every 1000) so the cuts land in the middle of the stream.
    await typeLine(page, 'seq 1 100000 | while read -r n; do echo "$n"; case $n in *000) sleep 0.05;; esac; done; echo SEQ-$((6*7))-DONE');
    const recorded = (): Promise<string> => recordedOutput(page);
    const done = async (): Promise<boolean> => (await recorded()).includes('SEQ-42-DONE');

    // First cut: the network goes away (reset, new connections refused) for a while.
    await until(page, async () => (await position(page)) - start > 100_000, '100 kB of seq output', 60_000);
    proxy.block(true);
    proxy.drop();
    await waitForState(page, 'reconnecting', 20_000);
    assert.ok(!(await done()), 'the output was cut in the middle (the loop had not finished)');
    const during = await snapshot(page);
    assert.ok(!/ended|closed/i.test(during.error ?? '') || /lost/i.test(during.error ?? ''), `the notice speaks of the lost connection; ${await describePage(page)}`);
    await sleep(2500);
    proxy.block(false);
    await until(page, async () => (await resumeCount(page)) >= 1, 'the first resume', 90_000);
    await waitForState(page, 'connected', 30_000);

    // Second cut, a plain reset: the page resumes again with the rotated token.
    const resumedAt = await position(page);
    await until(page, async () => (await done()) || (await position(page)) - resumedAt > 100_000, 'more output after the first resume', 60_000);
    proxy.drop();
    await until(page, async () => (await resumeCount(page)) >= 2, 'the second resume', 90_000);
    await until(page, done, 'the end of the loop (SEQ-42-DONE)', 120_000);
    await waitForScreen(page, 'SEQ-42-DONE', 20_000);

    // Every number exactly once and in order, in the bytes handed to the terminal.
    const text = await recorded();
    const numbers = text.split(/\r?\n/).filter((l) => /^\d+$/.test(l)).map(Number);
    const firstBad = numbers.findIndex((n, i) => n !== i + 1);
    assert.equal(firstBad, -1, `numbers out of order or repeated at index ${firstBad}: …${JSON.stringify(numbers.slice(Math.max(0, firstBad - 3), firstBad + 3))}`);
    assert.equal(numbers.length, 100_000, `all 100000 numbers arrived (got ${numbers.length})`);
    assert.equal(text.split('SEQ-42-DONE').length, 2, 'the end marker arrived once');

    // The protocol as documented: resume URLs with a token and a position, no second auth,
    // `resumed` starting exactly at the position asked for, nothing lost, a new token each time.
    const resumeUrls = frames.urls().map((u) => new URL(u)).filter((u) => u.searchParams.has('resume'));
    assert.ok(resumeUrls.length >= 2, `two or more resume attempts: ${JSON.stringify(frames.urls())}`);
    const asked = resumeUrls.map((u) => Number(u.searchParams.get('position')));
    const resumed = frames.receivedJson().filter((m) => m.type === 'resumed');
    assert.equal(resumed.length, await resumeCount(page), `one 'resumed' per resume: ${JSON.stringify(resumed)}`);
    for (const r of resumed) {
      assert.equal(r.lost, 0, `nothing lost: ${JSON.stringify(r)}`);
      assert.ok(asked.includes(Number(r.position)), `resumed at a position the page asked for: ${JSON.stringify(r)} vs ${JSON.stringify(asked)}`);
    }
    const tokens = [grant?.token, ...resumed.map((r) => (r.resume as { token?: unknown } | undefined)?.token)];
    assert.equal(new Set(tokens).size, tokens.length, 'the token rotates on every resume');
    const usedTokens = resumeUrls.map((u) => u.searchParams.get('resume'));
    assert.ok(usedTokens.includes(String(grant?.token)), 'the first resume used the token from ready');
    assert.equal(frames.sentJson().filter((m) => m.type === 'auth').length, 1, 'a resume sends no auth');
    assert.ok(frames.sentJson().filter((m) => m.type === 'resize').length >= resumed.length, 'a resize follows every resume');

    assert.equal(await shellPid(page), pid, 'the same shell continues');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors besides the cut connections');
  });

  void it('a reload restores the screen and resumes the same shell without the form', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const frames = recordWsFrames(page);
    await loginInPage(page, env.sshd);
    const pid = await shellPid(page);
    await typeLine(page, 'echo MARK-$((6*7))-ER');
    await waitForScreen(page, 'MARK-42-ER', 15_000);

    await page.reload({ waitUntil: 'load' });
    await waitForState(page, 'connected', 30_000);
    await until(page, async () => (await resumeCount(page)) === 1, 'the resume after the reload', 30_000);
    await waitForScreen(page, 'MARK-42-ER', 15_000); // restored from the stored screen
    assert.ok(!(await page.locator('#connect-screen').isVisible()), 'the login form is not shown');
    assert.equal(await shellPid(page), pid, 'the same shell continues after the reload');
    await typeLine(page, 'echo typed-$((2+3))');
    await waitForScreen(page, 'typed-5', 15_000);

    const stored = await storedRecord(page);
    assert.ok(stored.meta !== null, 'the resume record is kept in sessionStorage');
    assert.ok(!stored.all.includes(env.sshd.password), 'no password in sessionStorage');
    const auths = frames.sentJson().filter((m) => m.type === 'auth');
    assert.equal(auths.length, 1, 'the reload resumed (no second login)');
    const urls = frames.urls();
    assert.ok(new URL(urls.at(-1) ?? 'ws://x/').searchParams.has('resume'), `the page resumed after the reload: ${JSON.stringify(urls)}`);

    // Disconnect ends the session for real and forgets the record: a reload shows the form.
    await disconnect(page);
    await waitForState(page, 'closed', 15_000);
    assert.equal((await storedRecord(page)).meta, null, 'Disconnect forgets the record');
    await page.reload({ waitUntil: 'load' });
    await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    assert.ok(await page.locator('#connect-screen').isVisible(), 'the form after a reload of an ended session');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a refused resume (4007) after a reload brings back the pre-filled form with a note', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const frames = recordWsFrames(page);
    await loginInPage(page, env.sshd);
    await typeLine(page, 'echo old-$((1+1))');
    await waitForScreen(page, 'old-2', 15_000);
    await until(page, async () => (await storedRecord(page)).meta !== null, 'the resume record', 15_000);
    const saved = await storedRecord(page);
    // The session ends (Disconnect: close 1000), then its old record comes back: the token is dead.
    await disconnect(page);
    await waitForState(page, 'closed', 15_000);
    await page.evaluate(([m, s, meta, screen]) => {
      const st = (globalThis as unknown as Globals).sessionStorage;
      st.setItem(m ?? '', meta ?? '');
      st.setItem(s ?? '', screen ?? '');
    }, [META_KEY, SCREEN_KEY, saved.meta, saved.screen]);
    await page.reload({ waitUntil: 'load' });
    await waitForPage(page, (s) => /could not be resumed/i.test(s.error ?? ''), 'the refused-resume sentence', 30_000);
    assert.ok(await page.locator('#connect-screen').isVisible(), `the form is back; ${await describePage(page)}`);
    assert.equal(await page.getByLabel('Host', { exact: true }).inputValue(), env.sshd.host, 'Host is pre-filled');
    assert.equal(await page.getByLabel('Port', { exact: true }).inputValue(), String(env.sshd.port), 'Port is pre-filled');
    assert.equal(await page.getByLabel('Username', { exact: true }).inputValue(), env.sshd.username, 'Username is pre-filled');
    assert.equal(await page.getByLabel('Password', { exact: true }).and(page.locator('input')).inputValue(), '', 'never a password');
    assert.equal((await storedRecord(page)).meta, null, 'the dead record is forgotten');
    const closes = frames.receivedJson().filter((m) => m.type === 'error').map((m) => m.code);
    assert.ok(closes.includes('RESUME_INVALID'), `the bridge refused with RESUME_INVALID: ${JSON.stringify(closes)}`);
    await sleep(2000);
    assert.equal((await snapshot(page)).state, 'closed', 'no retry after a refused resume without credentials');

    // Logging in again from the pre-filled form is one password away.
    await page.getByLabel('Password', { exact: true }).and(page.locator('input')).fill(env.sshd.password);
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await waitForState(page, 'connected', 20_000);
    await waitForScreen(page, PROMPT, 20_000);
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors');
  });

  void it('a session gone while the network was down: the page logs in again and says the old one could not be resumed', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const short = await startBridge(['--host-key-policy', 'accept-new-insecure', '--resume-grace', '2s']);
    t.after(() => short.close());
    const proxy = await startTcpProxy(short.port);
    t.after(() => proxy.close());
    const { page, errors } = await openTestPage(t, env.browser, `http://127.0.0.1:${proxy.port}/`);
    await loginInPage(page, env.sshd);
    const pid = await shellPid(page);
    proxy.block(true);
    proxy.drop();
    await waitForState(page, 'reconnecting', 20_000);
    await sleep(5000); // well past the bridge's 2 s grace
    proxy.block(false);
    await waitForScreen(page, 'could not be resumed', 60_000);
    await waitForState(page, 'connected', 60_000);
    await waitForScreen(page, PROMPT, 20_000);
    const newPid = await shellPid(page);
    assert.notEqual(newPid, pid, 'a new shell (the old session is gone)');
    assert.equal(await resumeCount(page), 0, 'nothing was resumed');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors besides the cut connections');
  });

  void it('the browser going offline and online again: the page resumes the same shell', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors, context } = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await loginInPage(page, env.sshd);
    const pid = await shellPid(page);
    await context.setOffline(true);
    // Chromium cuts the socket, or the page's own ping deadline gives it up.
    await waitForState(page, 'reconnecting', 45_000);
    await sleep(1500);
    assert.equal((await snapshot(page)).state, 'reconnecting', `still waiting while offline; ${await describePage(page)}`);
    await context.setOffline(false);
    await until(page, async () => (await resumeCount(page)) === 1, 'the resume after coming back online', 60_000);
    await waitForState(page, 'connected', 20_000);
    assert.equal(await shellPid(page), pid, 'the same shell continues');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors besides the failed attempts');
  });

  void it('a network gone silent (no reset, no close) is noticed within seconds; what was typed meanwhile arrives once, in order', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const proxy = await startTcpProxy(env.bridge.port);
    t.after(() => proxy.close());
    const { page, errors } = await openTestPage(t, env.browser, `http://127.0.0.1:${proxy.port}/`);
    const frames = recordWsFrames(page);
    await loginInPage(page, env.sshd);
    const pid = await shellPid(page);
    await focusTerminal(page);
    // The path goes silent: packets are dropped, nothing is closed. New connections are refused
    // for now, so the page must hold what is typed while it waits to resume.
    proxy.block(true);
    proxy.stall();
    const silentAt = Date.now();
    // Typed into the silent socket: these bytes never reach the bridge.
    await page.keyboard.type('echo "sil');
    await waitForState(page, 'reconnecting', 30_000);
    const noticedMs = Date.now() - silentAt;
    // The old page waited 20 s for a pong (plus up to 5 s to its next ping); the bound is about 5 s.
    assert.ok(noticedMs < 12_000, `the silent network was noticed after ${noticedMs} ms`);
    assert.match((await snapshot(page)).state, /reconnecting/);
    // Typed while the page waits to resume: held.
    await page.keyboard.type('ent-net" | tr a-z A-Z');
    await page.keyboard.press('Enter');
    proxy.block(false);
    await until(page, async () => (await resumeCount(page)) >= 1, 'the resume', 60_000);
    const screen = await waitForScreen(page, /^SILENT-NET$/m, 20_000);
    assert.equal(screen.match(/^SILENT-NET$/gm)?.length, 1, `the command ran once:\n${screen}`);
    assert.match(screen, /echo "silent-net" \| tr a-z A-Z/, 'the command line arrived whole and in order');
    const resumed = frames.receivedJson().find((m) => m.type === 'resumed');
    assert.equal(typeof resumed?.inputPosition, 'number', `resumed says how much input the bridge took: ${JSON.stringify(resumed)}`);
    assert.equal(await shellPid(page), pid, 'the same shell continues');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors besides the cut connection');
  });

  void it('output lost while away (a small resume buffer): the terminal starts over with a notice, the shell goes on', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const small = await startBridge(['--host-key-policy', 'accept-new-insecure', '--resume-buffer', '4KiB']);
    t.after(() => small.close());
    const proxy = await startTcpProxy(small.port);
    t.after(() => proxy.close());
    const { page, errors } = await openTestPage(t, env.browser, `http://127.0.0.1:${proxy.port}/`);
    const frames = recordWsFrames(page);
    await loginInPage(page, env.sshd);
    const pid = await shellPid(page);
    // The output (about 110 kB) comes while the page is away: far more than the 4 KiB kept.
    // Cut only once the command runs (keystrokes still in flight would be lost with the cut).
    await typeLine(page, 'clear; echo STARTED-$((1+1)); sleep 3; seq 1 20000; echo GAP-$((2*2))-OK');
    await waitForScreen(page, /^STARTED-2$/m, 15_000);
    proxy.block(true);
    proxy.drop();
    await waitForState(page, 'reconnecting', 20_000);
    await sleep(5000);
    proxy.block(false);
    await until(page, async () => (await resumeCount(page)) === 1, 'the resume', 60_000);
    await waitForScreen(page, 'GAP-4-OK', 20_000);
    // The notice is the first line of the fresh terminal (the replayed tail scrolled it up).
    const buffer = await page.evaluate(() => {
      const buf = (globalThis as unknown as Globals).__uwsb?.term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; buf !== undefined && i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
      return lines;
    });
    assert.match(buffer[0] ?? '', /^\d+ bytes of output were lost while the connection was down; the screen starts over here\.$/, `the notice opens the reset terminal: ${JSON.stringify(buffer.slice(0, 3))}`);
    assert.ok(!buffer.some((l) => l.includes('STARTED-2')), 'the old screen is gone (reset)');
    const resumed = frames.receivedJson().filter((m) => m.type === 'resumed');
    assert.equal(resumed.length, 1);
    assert.ok(Number(resumed[0]?.lost) > 0, `the bridge said bytes were lost: ${JSON.stringify(resumed)}`);
    assert.equal(await position(page), await page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.parsedPosition() ?? -1).then(async (p) => {
      // Settle: everything handed to the terminal gets parsed.
      for (let i = 0; i < 50 && p !== (await position(page)); i++) {
        await sleep(100);
        p = await page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.parsedPosition() ?? -1);
      }
      return p;
    }), 'the positions go on from where the bridge restarted them');
    assert.equal(await shellPid(page), pid, 'the same shell continues');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors besides the cut connections');
  });

  void it('a second page resuming the same record takes over: the first says so (4008) and does not reconnect', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const first = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    const firstFrames = recordWsFrames(first.page);
    await loginInPage(first.page, env.sshd);
    const pid = await shellPid(first.page);
    await typeLine(first.page, 'echo DUP-$((5*5))-TAB');
    await waitForScreen(first.page, 'DUP-25-TAB', 15_000);
    // The record is saved shortly after output: wait until it holds everything the page parsed
    // (the bridge may drop output the page acknowledged, so an older copy would resume with a gap).
    await until(first.page, async () => {
      const meta = (await storedRecord(first.page)).meta;
      const parsed = await first.page.evaluate(() => (globalThis as unknown as Globals).__uwsb?.parsedPosition() ?? null);
      return meta !== null && parsed !== null && parsed === await position(first.page) && (JSON.parse(meta) as { position?: unknown }).position === parsed;
    }, 'a current resume record', 20_000);
    const copy = await storedRecord(first.page);

    // A duplicated tab starts with a copy of sessionStorage.
    const second = await openTestPage(t, env.browser, `${env.bridge.url}/`);
    await second.page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
    await second.page.evaluate(([m, s, meta, screen]) => {
      const st = (globalThis as unknown as Globals).sessionStorage;
      st.setItem(m ?? '', meta ?? '');
      if (screen !== null && screen !== undefined) st.setItem(s ?? '', screen);
    }, [META_KEY, SCREEN_KEY, copy.meta, copy.screen]);
    await second.page.reload({ waitUntil: 'load' });
    await waitForState(second.page, 'connected', 30_000);
    await until(second.page, async () => (await resumeCount(second.page)) === 1, 'the second page resumed', 30_000);

    await waitForPage(first.page, (s) => /resumed in another tab/i.test(s.error ?? ''), 'the takeover sentence in the first page', 30_000);
    await waitForState(first.page, 'closed', 10_000);
    const socketsBefore = firstFrames.urls().length;
    await sleep(3000);
    assert.equal((await snapshot(first.page)).state, 'closed', `the first page stays closed; ${await describePage(first.page)}`);
    assert.equal(firstFrames.urls().length, socketsBefore, 'the first page opened no new WebSocket');
    assert.ok(!(await first.page.getByRole('button', { name: 'Reconnect' }).isVisible()), 'no Reconnect offered after a takeover');
    assert.equal((await storedRecord(first.page)).meta, null, 'the first page forgot its record');

    assert.equal(await shellPid(second.page), pid, 'the second page has the same shell');
    await waitForScreen(second.page, /DUP-25-TAB/, 15_000);
    assert.deepEqual(first.errors, [], 'no console or page errors (first page)');
    assert.deepEqual(second.errors, [], 'no console or page errors (second page)');
  });

  void it('a restarting bridge (1012) ends a resumable session with its own sentence and no automatic retry', { timeout: 90_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const doomed = await startBridge(['--host-key-policy', 'accept-new-insecure']);
    let closed = false;
    t.after(async () => { if (!closed) await doomed.close(); });
    const { page, errors } = await openTestPage(t, env.browser, `${doomed.url}/`);
    const frames = recordWsFrames(page);
    await loginInPage(page, env.sshd);
    await until(page, async () => (await storedRecord(page)).meta !== null, 'the resume record', 15_000);
    const closing = doomed.close();
    await waitForPage(page, (s) => /restarting/i.test(s.error ?? ''), 'the restarting sentence', 30_000);
    await closing;
    closed = true;
    await waitForState(page, 'closed', 10_000);
    const sockets = frames.urls().length;
    await sleep(2500);
    assert.equal((await snapshot(page)).state, 'closed', 'no automatic retry');
    assert.equal(frames.urls().length, sockets, 'no new WebSocket');
    assert.equal((await storedRecord(page)).meta, null, 'the record is forgotten');
    assert.ok(await page.getByRole('button', { name: 'Reconnect' }).isVisible(), 'logging in again is offered');
    assert.deepEqual(errors.filter((e) => !EXPECTED_NOISE.test(e)), [], 'no console or page errors');
  });
});

void describe('page: resume after a reload with gateway authentication', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'], tokens: { 'resume-e2e': TOKEN } });

  void it('fetches a fresh ticket, then resumes with it and the token', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/#token=${encodeURIComponent(TOKEN)}`);
    const frames = recordWsFrames(page);
    const tickets: string[] = [];
    page.on('request', (req) => { if (/\/api\/ticket$/.test(req.url())) tickets.push(req.method()); });
    await loginInPage(page, env.sshd);
    await typeLine(page, 'echo AUTH-$((3*3))-R');
    await waitForScreen(page, 'AUTH-9-R', 15_000);

    await page.reload({ waitUntil: 'load' });
    await waitForState(page, 'connected', 30_000);
    assert.equal(await resumeCount(page), 1, `resumed after the reload; ${await describePage(page)}`);
    await waitForScreen(page, 'AUTH-9-R', 15_000);
    const urls = frames.urls().map((u) => new URL(u));
    assert.equal(urls.length, 2, `two WebSockets: ${JSON.stringify(frames.urls())}`);
    const last = urls[1];
    assert.ok(last?.searchParams.has('resume') && last.searchParams.has('ticket'), `the resume carries a ticket: ${last?.href ?? ''}`);
    assert.notEqual(urls[0]?.searchParams.get('ticket'), last?.searchParams.get('ticket'), 'a fresh ticket');
    assert.ok(tickets.length >= 2, `a ticket request before each WebSocket (${tickets.length})`);
    assert.ok(!frames.urls().some((u) => u.includes(TOKEN)), 'the gateway token never goes into a WebSocket URL');
    assert.deepEqual(errors, [], 'no console or page errors');
  });
});
