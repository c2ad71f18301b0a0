/**
 * The screenshots the browser tests take, all in one folder: `dist/screenshots/NAME.png` on
 * every run, and also `$UWSB_SCREENSHOT_DIR/NAME.png` when that is set
 * (`UWSB_SCREENSHOT_DIR=docs/screenshots npm test` refreshes the copies the README shows).
 *
 * Who takes which: `terminal` test/e2e/page.test.ts (the README's picture); `form`,
 * `hostkey-question`, `hostkey-warning`, `share-panel`, `recordings` and `recordings-player`
 * test/e2e/page-a11y.test.ts, in the states it checks; `phone-terminal` (390x844 with the
 * extra-keys bar, vim driven from it) test/e2e/page-phone.test.ts; `tabs-split` (two sessions
 * side by side) test/e2e/page-a11y.test.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export type ScreenshotName = 'form' | 'terminal' | 'hostkey-question' | 'hostkey-warning' | 'share-panel' | 'recordings' | 'recordings-player' | 'phone-terminal' | 'tabs-split';

/** dist/screenshots (this file runs from dist/test/helpers). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../screenshots/', import.meta.url));

/** Take a screenshot of the page's viewport as NAME.png into dist/screenshots (and UWSB_SCREENSHOT_DIR). */
export async function saveScreenshot(page: Page, name: ScreenshotName): Promise<void> {
  const shot = await page.screenshot();
  const dirs = [SCREENSHOT_DIR];
  const extra = process.env.UWSB_SCREENSHOT_DIR;
  if (extra !== undefined && extra !== '') dirs.push(extra);
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.png`), shot);
  }
}
