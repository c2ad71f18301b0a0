/**
 * The usual fixture of a page (Chromium) suite against a real sshd: one OpenSSH sshd, one
 * in-process bridge in front of it (optionally with a gateway token file) and one headless
 * Chromium for the whole `describe`, started in `before` and stopped in `after` (call inside the
 * describe callback, like helpers/sshd-bridge.ts). `ready(t)` fails under CI=true and skips
 * loudly elsewhere when sshd or Chromium is missing (helpers/require.ts), and always fails when
 * the page has not been built.
 *
 * Also the small pieces every page suite repeats: the dependency gate for suites without sshd,
 * a page closed when its test ends, and the login through the form up to the shell prompt.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { startBridge, type BridgeHandle } from './bridge.js';
import { chromiumAvailable, launchBrowser, login, openPage, waitForScreen, waitForState, type OpenedPage, type PageSize } from './browser.js';
import { requireOrSkip, sshdAvailable } from './require.js';
import { startSshd, TEST_PROMPT, type SshdHandle, type SshdOptions } from './sshd.js';

/** The built page the test bridges serve: its test build (dist/test/helpers -> dist/web-test, helpers/bridge.ts). */
export const PAGE_INDEX = fileURLToPath(new URL('../../web-test/index.html', import.meta.url));

/**
 * Gate a page test: sshd (when `sshd` is true) and Chromium through requireOrSkip (fail under
 * CI=true, loud skip elsewhere), then assert the page is built (always a failure).
 * @returns true when the test may proceed.
 */
export function requirePageDeps(t: TestContext, opts: { sshd: boolean }): boolean {
  if (opts.sshd && !requireOrSkip(t, 'OpenSSH sshd', sshdAvailable(), 'apt-get install openssh-server')) return false;
  if (!requireOrSkip(t, 'Chromium', chromiumAvailable(), 'apt-get install chromium')) return false;
  assert.ok(existsSync(PAGE_INDEX), `the page is not built (${PAGE_INDEX} missing): run \`npm run build\``);
  return true;
}

/** Open `url` in a fresh browser context (helpers/browser.ts `openPage`), closed when the test ends. */
export async function openTestPage(t: TestContext, browser: Browser, url: string, size?: PageSize): Promise<OpenedPage> {
  const opened = await openPage(browser, url, size ?? {});
  t.after(() => opened.close());
  return opened;
}

/** Where the form logs in to: an SshdHandle or a FakeSshHandle. */
export interface LoginTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
}

/**
 * Log in through the form with the target's password (helpers/browser.ts `login`), after
 * waiting until the form is shown (config.json read) unless `waitForForm` is false.
 */
export async function submitLogin(page: Page, s: LoginTarget, opts: { waitForForm?: boolean } = {}): Promise<void> {
  if (opts.waitForForm ?? true) await page.locator('#card:not(.pending)').waitFor({ state: 'visible' });
  await login(page, { host: s.host, port: s.port, username: s.username, password: s.password });
}

/** `submitLogin`, then wait for the connected state and the shell prompt (default: the real sshd's). */
export async function loginInPage(page: Page, s: LoginTarget, opts: { waitForForm?: boolean; prompt?: string } = {}): Promise<void> {
  await submitLogin(page, s, opts);
  await waitForState(page, 'connected', 20_000);
  await waitForScreen(page, opts.prompt ?? TEST_PROMPT.trim(), 20_000);
}

/** One `sha256:HEX name` line of a gateway token file (`name admin` for an operator's). */
export function tokenLine(name: string, token: string, admin = false): string {
  return `sha256:${createHash('sha256').update(token).digest('hex')} ${name}${admin ? ' admin' : ''}`;
}

/**
 * A bridge with the default host key policy (tofu) and its own known_hosts (returned as `file`),
 * optionally pre-filled with `known`; removed when the test ends.
 */
export async function startTofuBridge(t: TestContext, known?: string): Promise<{ bridge: BridgeHandle; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-page-hk-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'known_hosts');
  if (known !== undefined) writeFileSync(file, known);
  const bridge = await startBridge(['--known-hosts', file, '--system-known-hosts', join(dir, 'none')]);
  t.after(() => bridge.close());
  return { bridge, file };
}

/**
 * A tofu bridge whose known_hosts holds another key for the sshd's address, so its host key "has
 * changed" (HOST_KEY_CHANGED); `stored` is that other key's SHA256 fingerprint.
 */
export async function changedKeyBridge(t: TestContext, sshd: SshdHandle): Promise<{ bridge: BridgeHandle; stored: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-page-wrongkey-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')], { stdio: 'pipe' });
  const [type, base64] = readFileSync(join(dir, 'k.pub'), 'utf8').trim().split(' ');
  const stored = execFileSync('ssh-keygen', ['-lf', join(dir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1] ?? '';
  const { bridge } = await startTofuBridge(t, `[127.0.0.1]:${sshd.port} ${type ?? ''} ${base64 ?? ''}\n`);
  return { bridge, stored };
}

export interface PageFixtureOptions {
  /** Bridge flags; `--auth-tokens FILE` is appended when `tokens` is given. */
  readonly flags: readonly string[];
  /** Gateway access tokens by name: written as `sha256:HEX name` lines to a 0600 file in a temp dir. */
  readonly tokens?: Readonly<Record<string, string>>;
  /** Names of `tokens` that are operators' (`sha256:HEX name admin`: the recordings view). */
  readonly admins?: readonly string[];
  readonly sshdOpts?: SshdOptions;
}

/** What a test gets once `ready(t)` let it run. */
export interface PageEnv {
  readonly browser: Browser;
  readonly sshd: SshdHandle;
  readonly bridge: BridgeHandle;
}

export interface PageFixture {
  readonly browser: Browser | undefined;
  readonly sshd: SshdHandle | undefined;
  readonly bridge: BridgeHandle | undefined;
  /** The page's URL on the bridge (`http://127.0.0.1:PORT/`), '' before the bridge started. */
  readonly baseUrl: string;
  /** Gate the test (requirePageDeps with sshd) and assert everything started; undefined: skipped. An arrow: destructure it freely. */
  readonly ready: (t: TestContext) => PageEnv | undefined;
}

export function usePageFixture(opts: PageFixtureOptions): PageFixture {
  const state: { browser?: Browser; sshd?: SshdHandle; bridge?: BridgeHandle; dir?: string } = {};
  before(async () => {
    if (!sshdAvailable() || !chromiumAvailable()) return;
    const flags = [...opts.flags];
    if (opts.tokens !== undefined) {
      state.dir = mkdtempSync(join(tmpdir(), 'uwsb-page-tokens-'));
      const file = join(state.dir, 'tokens');
      writeFileSync(file, Object.entries(opts.tokens).map(([name, token]) => `${tokenLine(name, token, opts.admins?.includes(name))}\n`).join(''), { mode: 0o600 });
      flags.push('--auth-tokens', file);
    }
    state.sshd = await startSshd(opts.sshdOpts ?? {});
    state.bridge = await startBridge(flags);
    state.browser = await launchBrowser();
  });
  after(async () => {
    await state.browser?.close();
    try {
      await state.bridge?.close(); // also the log scan: no registered secret in any log line
    } finally {
      await state.sshd?.stop();
      if (state.dir !== undefined) rmSync(state.dir, { recursive: true, force: true });
    }
  });
  return {
    get browser() { return state.browser; },
    get sshd() { return state.sshd; },
    get bridge() { return state.bridge; },
    get baseUrl() { return state.bridge === undefined ? '' : `${state.bridge.url}/`; },
    ready: (t) => {
      if (!requirePageDeps(t, { sshd: true })) return undefined;
      const { browser, sshd, bridge } = state;
      assert.ok(browser && sshd && bridge, 'before() did not start browser, sshd and bridge');
      return { browser, sshd, bridge };
    },
  };
}
