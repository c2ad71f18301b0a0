/**
 * Accessibility checks for the page's browser tests:
 *
 * - `assertAxeClean`: axe-core (through @axe-core/playwright, which injects it into the page from
 *   the test over the DevTools protocol: the page itself never loads it, and its strict CSP stays
 *   as it is) on the whole page or a part of it; any violation of impact `serious` or `critical`
 *   fails, listed with its rule, the elements and axe's hint.
 * - `tabThrough`: presses Tab from where the focus is (or from the top of the page: a click on the
 *   toolbar's brand, which nothing focusable precedes, sets where Tab starts) and records
 *   every element that gets the focus until it comes back to one already seen (the end of a
 *   cycle, or the terminal, which keeps Tab for the shell), starting with the element focused
 *   now; each one must show a focus indicator while it has the focus (an outline, or a ring drawn
 *   as box-shadow, or, for the terminal, xterm.js's focused cursor)
 *   and every visible control of the given part of the page must have been reached.
 */
import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

/** Run axe on the page (or only `include`, a CSS selector) and fail on serious or critical violations. */
export async function assertAxeClean(page: Page, what: string, include?: string): Promise<void> {
  let builder = new AxeBuilder({ page });
  if (include !== undefined) builder = builder.include(include);
  const results = await builder.analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const text = bad.map((v) => `${v.impact ?? ''} ${v.id}: ${v.help}\n${v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')}`).join('\n');
  assert.equal(bad.length, 0, `axe found serious or critical violations on ${what}:\n${text}`);
}

/** One element the focus reached by Tab. */
export interface TabStop {
  /** `tag#id "name"`, for messages. */
  readonly desc: string;
  /** An outline, a box-shadow ring or the terminal's focused cursor shows where the focus is. */
  readonly visible: boolean;
}

/** The page's globals used in the callbacks below (the Node project has no DOM lib). */
interface El {
  readonly tagName: string;
  readonly id: string;
  readonly disabled?: boolean;
  readonly classList: { contains(c: string): boolean };
  getAttribute(name: string): string | null;
  closest(selector: string): El | null;
  matches(selector: string): boolean;
  getClientRects(): { length: number };
  readonly textContent: string | null;
}
interface Win {
  __tabbed?: El[];
  readonly document: { readonly activeElement: El | null; querySelector(s: string): El | null; querySelectorAll(s: string): ArrayLike<El> };
  getComputedStyle(el: El): { outlineStyle: string; outlineWidth: string; boxShadow: string; visibility: string };
}

/**
 * Tab from the current focus (`fromTop`: from the start of the page) until an element comes
 * round again, at most `max` presses. Returns the stops in order.
 */
export async function tabThrough(page: Page, opts: { fromTop?: boolean; max?: number } = {}): Promise<TabStop[]> {
  // A click sets the point sequential navigation starts from (and takes the focus off).
  if (opts.fromTop === true) await page.locator('.brand').click();
  const focusStop = (): TabStop | 'again' | 'same' | null => {
    const w = globalThis as unknown as Win;
    const el = w.document.activeElement;
    if (el === null || el.tagName === 'BODY') return null;
    const seen = w.__tabbed ?? [];
    // A date field takes one Tab per part (day, month, year).
    if (seen.at(-1) === el && el.matches('input[type="date"], input[type="time"], input[type="datetime-local"]')) return 'same';
    if (seen.includes(el)) return 'again';
    seen.push(el);
    const name = el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? '';
    const desc = `${el.tagName.toLowerCase()}${el.id === '' ? '' : `#${el.id}`} "${name}"`;
    const style = w.getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const ring = style.boxShadow !== 'none';
    // xterm.js keeps Tab for the shell; its focus shows as the solid cursor of `.xterm.focus`.
    const terminal = el.classList.contains('xterm-helper-textarea') && el.closest('.xterm.focus') !== null;
    return { desc, visible: outline || ring || terminal };
  };
  await page.evaluate(() => {
    (globalThis as unknown as Win).__tabbed = [];
  });
  const stops: TabStop[] = [];
  // The element that has the focus now is the first stop (unless starting from the top).
  const first = opts.fromTop === true ? null : await page.evaluate(focusStop);
  if (first !== null && typeof first === 'object') stops.push(first);
  for (let i = 0; i < (opts.max ?? 60); i++) {
    await page.keyboard.press('Tab');
    const stop = await page.evaluate(focusStop);
    if (stop === 'same') continue;
    if (stop === 'again') break;
    if (stop !== null) stops.push(stop);
  }
  return stops;
}

/**
 * Tab through (see tabThrough) and assert: every stop shows its focus, and every visible,
 * enabled control inside `scope` (a CSS selector) was reached.
 */
export async function assertKeyboardReachable(page: Page, what: string, scope: string, opts: { fromTop?: boolean } = {}): Promise<TabStop[]> {
  const stops = await tabThrough(page, opts);
  const hidden = stops.filter((s) => !s.visible).map((s) => s.desc);
  assert.deepEqual(hidden, [], `${what}: controls whose keyboard focus is not visible (stops: ${stops.map((s) => s.desc).join(', ')})`);
  const missed = await page.evaluate((sel) => {
    const w = globalThis as unknown as Win;
    const seen = w.__tabbed ?? [];
    const controls = Array.from(w.document.querySelectorAll(`${sel} :is(a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"]))`));
    return controls
      .filter((el) => el.getClientRects().length > 0 && w.getComputedStyle(el).visibility !== 'hidden' && el.disabled !== true && el.closest('[inert]') === null)
      // The content of a closed <details> keeps its boxes in Chromium but is not shown (its summary is).
      .filter((el) => el.closest('details:not([open])') === null || el.closest('summary') !== null)
      .filter((el) => !seen.includes(el))
      .map((el) => `${el.tagName.toLowerCase()}${el.id === '' ? '' : `#${el.id}`} "${el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? ''}"`);
  }, scope);
  assert.deepEqual(missed, [], `${what}: controls Tab never reached (stops: ${stops.map((s) => s.desc).join(', ')})`);
  return stops;
}
