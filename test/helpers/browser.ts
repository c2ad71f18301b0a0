/**
 * Headless Chromium for end-to-end tests of the page: Debian's /usr/bin/chromium driven by
 * playwright-core (no bundled browser download). Helpers open a page that records console and
 * page errors, poll the page's test hooks (`window.__uwsb`) with timeouts whose messages show
 * what was on screen, and log in through the form exactly as a person would.
 */
import { executable } from './require.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Frame, Page } from 'playwright-core';
import { waitUntil } from './until.js';

/** A page, or one of its frames (a session pane of the page's tabs: web/src/workspace.ts). */
export type PageOrFrame = Page | Frame;

/** The page a frame belongs to (its keyboard). */
export const pageOf = (p: PageOrFrame): Page => ('parentFrame' in p ? p.page() : p);

/** Debian's Chromium (package `chromium`). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags for a quiet, deterministic headless browser in a container (no sandbox, no GPU, no chatter). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** True when the Chromium binary is present and executable. */
export function chromiumAvailable(): boolean {
  return executable(CHROMIUM_PATH);
}

/** Launch headless Chromium. One per test file; each test opens its own page (context). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true, timeout: 60_000 });
}

/** The page's test hooks (see web/: `window.__uwsb`). */
export type PageState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** The part of xterm's Terminal the tests read. */
export interface XtermLike {
  readonly rows: number;
  readonly cols: number;
  readonly buffer: { readonly active: { readonly length: number; getLine(i: number): { translateToString(trimRight?: boolean): string } | undefined } };
}

/** `window.__uwsb`, the page's test hooks. */
export interface UwsbHooks {
  state(): PageState;
  /** Visible lines of the active buffer joined with \n, trailing spaces trimmed. */
  screenText(): string;
  readonly term: XtermLike;
  /** Text of the role=alert element, or null. */
  lastError(): string | null;
  bytesAcked(): number;
  bytesReceived(): number;
}

/**
 * The browser globals the tests touch inside `page.evaluate` callbacks, typed without pulling the
 * DOM lib into the Node project: write `(globalThis as unknown as PageGlobals).__uwsb`
 * (in the page, globalThis is window).
 */
export interface PageGlobals {
  readonly __uwsb?: UwsbHooks;
  readonly document: { querySelector(selector: string): (EventTarget & { getAttribute(name: string): string | null }) | null; readonly activeElement: EventTarget | null };
  readonly DataTransfer: new () => { setData(format: string, data: string): void };
  readonly ClipboardEvent: new (type: string, init: { clipboardData: unknown; bubbles: boolean; cancelable: boolean }) => Event;
}

/** A page in its own browser context, with every console error and uncaught page error recorded. */
export interface OpenedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** `console.error` messages and uncaught exceptions, in order; assert this is empty. */
  readonly errors: string[];
  close(): Promise<void>;
}

/** A page's viewport; `touch` emulates a phone (`isMobile`, `hasTouch`: taps, a coarse pointer, the mobile viewport). */
export interface PageSize {
  readonly width?: number;
  readonly height?: number;
  readonly touch?: boolean;
}

/** Open `url` in a fresh context with the given viewport (default 1000x700), recording errors. */
export async function openPage(browser: Browser, url: string, opts: PageSize = {}): Promise<OpenedPage> {
  const touch = opts.touch === true ? { isMobile: true, hasTouch: true } : {};
  const context = await browser.newContext({ viewport: { width: opts.width ?? 1000, height: opts.height ?? 700 }, ...touch });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console.error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.stack ?? err.message}`));
  page.setDefaultTimeout(30_000);
  await page.goto(url, { waitUntil: 'load' });
  return { page, context, errors, close: () => context.close().catch(() => undefined) };
}

/** What the page shows: screen text (or why it could not be read), state and last error. */
export async function snapshot(page: PageOrFrame): Promise<{ state: string; screen: string; error: string | null }> {
  try {
    return await page.evaluate(() => {
      const h = (globalThis as unknown as PageGlobals).__uwsb;
      if (h === undefined) return { state: '(no window.__uwsb)', screen: '', error: null };
      return { state: h.state(), screen: h.screenText(), error: h.lastError() };
    });
  } catch (err) {
    return { state: `(page not readable: ${(err as Error).message})`, screen: '', error: null };
  }
}

/** A short description of the page for assertion messages. */
export async function describePage(page: PageOrFrame): Promise<string> {
  const s = await snapshot(page);
  return `state=${s.state} lastError=${JSON.stringify(s.error)}; screen:\n${s.screen}\n--- end of screen`;
}

/**
 * Poll until `check(snapshot)` is true; rejects after timeoutMs with `what` and the page's
 * state, last error and screen text.
 */
export async function waitForPage(
  page: PageOrFrame,
  check: (s: { state: string; screen: string; error: string | null }) => boolean,
  what: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await snapshot(page);
    if (check(s)) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; state=${s.state} lastError=${JSON.stringify(s.error)}; screen:\n${s.screen}\n--- end of screen`);
    }
    await sleep(50);
  }
}

/** Wait until the visible terminal text matches `pattern` (substring or RegExp); returns that text. */
export async function waitForScreen(page: PageOrFrame, pattern: RegExp | string, timeoutMs = 15_000): Promise<string> {
  const test = (text: string): boolean => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text));
  let screen = '';
  await waitForPage(page, (s) => { screen = s.screen; return test(s.screen); }, `screen matching ${String(pattern)}`, timeoutMs);
  return screen;
}

/** Wait until `window.__uwsb.state()` is `state`. */
export async function waitForState(page: PageOrFrame, state: PageState, timeoutMs = 15_000): Promise<void> {
  await waitForPage(page, (s) => s.state === state, `state '${state}'`, timeoutMs);
}

/** Fill the connect form by its labels and press Connect (password authentication). */
export async function login(page: PageOrFrame, target: { host: string; port: number; username: string; password: string }): Promise<void> {
  await page.getByLabel('Host', { exact: true }).fill(target.host);
  await page.getByLabel('Port', { exact: true }).fill(String(target.port));
  await page.getByLabel('Username', { exact: true }).fill(target.username);
  // The auth method choice may itself be a radio labelled "Password": pick it, fill the text field.
  const method = page.getByRole('radio', { name: /^password$/i });
  if ((await method.count()) === 1) await method.check();
  await page.getByLabel('Password', { exact: true }).and(page.locator('input:not([type="radio"]):not([type="checkbox"])')).fill(target.password);
  await page.getByRole('button', { name: 'Connect', exact: true }).click();
}

/**
 * End the session with the Disconnect button: a live session asks first (a small dialog), which
 * this confirms with its own Disconnect button.
 */
export async function disconnect(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Disconnect?' });
  await dialog.waitFor({ state: 'visible' });
  await dialog.getByRole('button', { name: 'Disconnect', exact: true }).click();
}

/** Focus the terminal (click it) so keyboard input goes to the shell. */
export async function focusTerminal(page: PageOrFrame): Promise<void> {
  await page.locator('#terminal').click();
}

/** Click the terminal (focus) and type a command line; `\n` presses Enter. */
export async function typeLine(page: PageOrFrame, line: string): Promise<void> {
  await focusTerminal(page);
  await pageOf(page).keyboard.type(`${line}\n`);
}

/** Wait until `check()` holds (polled), failing with `what` and the page's state. */
export async function until(page: PageOrFrame, check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  if (await waitUntil(check, timeoutMs, 100)) return;
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${await describePage(page)}`);
}

/** A JSON control message the page sent or received (secrets removed). */
export type WsJson = Record<string, unknown> & { type?: unknown };

/**
 * Record the WebSocket frames the page exchanges (through playwright's `websocket` events, i.e.
 * what Chromium really put on the wire). Text frames are kept JSON-parsed with `password`,
 * `privateKey` and `passphrase` replaced by "***" (also in each `jump` login), so they can go
 * into assertion messages;
 * binary frames are only counted.
 */
export function recordWsFrames(page: Page): {
  sentJson(): WsJson[];
  receivedJson(): WsJson[];
  sentBinaryBytes(): number;
  receivedBinaryBytes(): number;
  urls(): string[];
} {
  const sent: WsJson[] = [];
  const received: WsJson[] = [];
  const urls: string[] = [];
  let sentBytes = 0;
  let receivedBytes = 0;
  const parse = (payload: string | Buffer, into: WsJson[]): boolean => {
    if (typeof payload !== 'string') return false;
    try {
      const v: unknown = JSON.parse(payload);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
        const mask = (o: Record<string, unknown>): Record<string, unknown> => {
          const out = { ...o };
          for (const k of ['password', 'privateKey', 'passphrase']) if (k in out) out[k] = '***';
          return out;
        };
        const msg = mask(v as WsJson) as WsJson;
        // Each jump host's login too (auth.jump).
        if (Array.isArray(msg['jump'])) msg['jump'] = (msg['jump'] as unknown[]).map((h) => (h !== null && typeof h === 'object' ? mask(h as Record<string, unknown>) : h));
        into.push(msg);
        return true;
      }
    } catch { /* not JSON */ }
    return false;
  };
  page.on('websocket', (ws) => {
    urls.push(ws.url());
    ws.on('framesent', ({ payload }) => {
      if (!parse(payload, sent)) sentBytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    });
    ws.on('framereceived', ({ payload }) => {
      if (!parse(payload, received)) receivedBytes += typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    });
  });
  return {
    sentJson: () => [...sent],
    receivedJson: () => [...received],
    sentBinaryBytes: () => sentBytes,
    receivedBinaryBytes: () => receivedBytes,
    urls: () => [...urls],
  };
}
