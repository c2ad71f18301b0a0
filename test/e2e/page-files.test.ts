/**
 * The page's Files panel in headless Chromium against the real bridge and a real OpenSSH sshd
 * (its SFTP server): log in, open Files (the toolbar button; Alt+Shift+F closes and opens it), the
 * login directory is listed with its absolute path; New folder; two files uploaded with the
 * picker appear with their sizes; an existing name asks Replace / Keep both / Skip and Keep both
 * lands as `name (1).ext`; a download goes through the browser's download manager with the
 * source's sha256; Delete asks first; the terminal echoes during and after; a viewer of a shared
 * session has no Files tool. The bridge keeps its default rate limit, which file requests do not
 * spend, so no request is refused for the rate. Fails (never skips) under CI=true when Chromium or sshd is missing.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { typeLine, until, waitForScreen, waitForState } from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture } from '../helpers/page-fixture.js';
import { registerSecret } from '../helpers/secrets.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const row = (page: Page, name: string) => page.locator(`#files-body tr[data-name="${name}"]`);
/** Type a line into the terminal with the panel open (its keyboard focus, not a click the panel would cover). */
async function typeInTerminal(page: Page, line: string): Promise<void> {
  await page.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}
const sizeOf = async (page: Page, name: string): Promise<string> => (await row(page, name).locator('td.files-size').textContent()) ?? '';

void describe('page: the Files panel in Chromium against a real sshd', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

  void it('lists home, makes a folder, uploads, resolves a name conflict, downloads (sha256), deletes; the terminal keeps echoing', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1280, height: 800 });
    await loginInPage(page, env.sshd);
    const filesBtn = page.getByRole('button', { name: 'Files', exact: true });
    await filesBtn.click();
    const panel = page.getByRole('dialog', { name: 'Files' });
    await panel.waitFor({ state: 'visible' });
    const pathBar = page.getByLabel('Folder', { exact: true });
    await until(page, async () => (await pathBar.inputValue()).startsWith('/'), 'the absolute login directory in the path bar', 20_000);
    const home = await pathBar.inputValue();
    await until(page, async () => (await page.locator('#files-body tr').count()) > 0, 'the listing', 20_000);
    assert.equal(await row(page, '.bashrc').count(), 0, 'dot files hidden by default');
    // Dot files only when asked for.
    await page.getByLabel('Show hidden').check();
    await row(page, '.bashrc').waitFor({ state: 'visible' });
    await page.getByLabel('Show hidden').uncheck();

    // Escape closes, Alt+Shift+F opens again (the focus in the terminal).
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'hidden' });
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.press('Alt+Shift+KeyF');
    await panel.waitFor({ state: 'visible' });

    const folder = `uwsb-e2e-${randomBytes(4).toString('hex')}`;
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Name', { exact: true }).fill(folder);
    await page.getByRole('button', { name: 'Create' }).click();
    await row(page, folder).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: `Open folder ${folder}` }).click();
    await until(page, async () => (await pathBar.inputValue()) === `${home}/${folder}`, 'the new folder opened', 20_000);
    await page.getByText('This folder is empty.').waitFor({ state: 'visible' });

    const big = randomBytes(3 * 1024 * 1024 + 17);
    const small = Buffer.from('hello from the files panel\n');
    await page.locator('#files-input').setInputFiles([
      { name: 'big.bin', mimeType: 'application/octet-stream', buffer: big },
      { name: 'note.txt', mimeType: 'text/plain', buffer: small },
    ]);
    // The terminal echoes while the uploads run (or right after they ended).
    await typeInTerminal(page, 'echo DURING-$((6*7))-FILES');
    await waitForScreen(page, 'DURING-42-FILES', 20_000);
    await row(page, 'big.bin').waitFor({ state: 'visible', timeout: 30_000 });
    await row(page, 'note.txt').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await sizeOf(page, 'big.bin'), '3.0 MiB');
    assert.equal(await sizeOf(page, 'note.txt'), `${small.length} B`);
    await until(page, async () => (await page.locator('#files-transfers li[data-state="done"]').count()) === 2, 'both transfers done', 30_000);
    assert.equal(await page.locator('#files-count').isHidden(), true, 'no running count once they ended');

    // The same name again: Keep both uploads it as "note (1).txt".
    await page.locator('#files-input').setInputFiles([{ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('second\n') }]);
    const conflict = page.getByRole('dialog', { name: 'The name exists' });
    await conflict.waitFor({ state: 'visible' });
    await conflict.getByRole('button', { name: 'Keep both' }).click();
    await row(page, 'note (1).txt').waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await sizeOf(page, 'note (1).txt'), '7 B');

    // Download through the browser's download manager: the bytes are the source's.
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      page.getByRole('button', { name: 'Download big.bin' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'big.bin');
    const saved = await download.path();
    assert.equal(sha256(readFileSync(saved)), sha256(big), 'the downloaded file has the source\'s sha256');

    // Sorting by size, largest first.
    await page.getByRole('button', { name: 'Size', exact: true }).click();
    assert.deepEqual(await page.locator('#files-body tr').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { name?: string } }).dataset.name)), ['big.bin', 'note.txt', 'note (1).txt']);

    // Delete asks first; Cancel keeps the file, Delete removes it.
    for (const name of ['big.bin', 'note.txt', 'note (1).txt']) {
      await page.getByRole('button', { name: `Delete ${name}` }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete file?' });
      await confirm.waitFor({ state: 'visible' });
      await confirm.getByRole('button', { name: 'Delete' }).click();
      await row(page, name).waitFor({ state: 'detached', timeout: 20_000 });
    }
    await page.getByRole('button', { name: 'Up one folder' }).click();
    await until(page, async () => (await pathBar.inputValue()) === home, 'back in the login directory', 20_000);
    await page.getByRole('button', { name: `Delete ${folder}` }).click();
    await page.getByRole('dialog', { name: 'Delete folder?' }).getByRole('button', { name: 'Delete' }).click();
    await row(page, folder).waitFor({ state: 'detached', timeout: 20_000 });

    await page.getByRole('button', { name: 'Close' }).last().click();
    await typeLine(page, 'echo AFTER-$((7*8))-FILES');
    await waitForScreen(page, 'AFTER-56-FILES', 20_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a refusal reads as a sentence with its code; a viewer of a shared session has no Files tool', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const owner = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1280, height: 800 });
    await loginInPage(owner.page, env.sshd);
    await owner.page.getByRole('button', { name: 'Files', exact: true }).click();
    const pathBar = owner.page.getByLabel('Folder', { exact: true });
    await until(owner.page, async () => (await pathBar.inputValue()).startsWith('/'), 'the listing', 20_000);
    await pathBar.fill('/no/such/folder/here');
    await pathBar.press('Enter');
    await until(owner.page, async () => ((await owner.page.locator('#files-message').textContent()) ?? '') === 'No such file or folder (FILES_NOT_FOUND)', 'the refusal as a sentence', 20_000);
    await owner.page.keyboard.press('Escape');

    await owner.page.getByRole('button', { name: 'Share', exact: true }).click();
    const linkBox = owner.page.getByLabel('View link', { exact: true });
    await until(owner.page, async () => (await linkBox.isVisible()) && (await linkBox.inputValue()).includes('#share='), 'the view link', 20_000);
    const link = await linkBox.inputValue();
    registerSecret(new URLSearchParams(new URL(link).hash.slice(1)).get('share') ?? '');
    const viewer = await openTestPage(t, env.browser, link, { width: 1280, height: 800 });
    await waitForState(viewer.page, 'connected', 30_000);
    assert.equal(await viewer.page.locator('#files-btn').isHidden(), true, 'no Files tool for a viewer');
    await viewer.page.keyboard.press('Alt+Shift+KeyF');
    assert.equal(await viewer.page.locator('#files-panel').isHidden(), true, 'Alt+Shift+F opens nothing for a viewer');
    await typeLine(owner.page, 'echo OWNER-$((8*8))-FILES');
    await waitForScreen(viewer.page, 'OWNER-64-FILES', 20_000);
    assert.deepEqual(viewer.errors, [], 'no console or page errors (viewer)');
  });
});
