/**
 * The Files panel's remaining parts in headless Chromium against the real bridge and a real
 * OpenSSH sshd (its SFTP server):
 * - two files dropped on the terminal (not the panel) upload into the panel's folder and are
 *   listed with their sizes (and are those bytes on disk);
 * - a large upload, slowed by Chromium's own network throttling (CDP
 *   `Network.emulateNetworkConditions`), shows its progress bar moving (a larger value on a later
 *   look); with the panel closed the toolbar's Files button counts the running transfer; the
 *   terminal echoes meanwhile; Cancel stops it, and neither the file nor its `.uwsb-*.part`
 *   temporary is left in the folder;
 * - a read-only session (`--files-upload-subjects` without its subject) is told so by its file
 *   token: the panel says "Read-only", offers no Upload (of files or a folder), New folder, Rename or Delete, refuses a
 *   drop with a sentence, and still downloads (the browser's download event, the file's sha256);
 * - with `--files-enabled=false` there is no Files tool: no button, Alt+Shift+F opens nothing;
 * - a name that exists, answered each way: Replace (the server's file has the new bytes), Skip
 *   (the old bytes stay, no transfer, no `.uwsb-*.part`; Keep both is in page-files.test.ts);
 * - a local folder picked with Upload folder… (`setInputFiles` with a directory on the
 *   `webkitdirectory` input): its tree (a nested subfolder, a name with spaces and non-ASCII
 *   letters, a 0-byte file) arrives with its sizes and bytes; picked again it asks Merge / Keep
 *   both / Skip: Keep both makes "name (1)", Merge replaces a changed file and adds a new one, Skip
 *   changes nothing;
 * - a local folder dropped on the panel the way a real drag from the desktop does it (CDP
 *   `Input.dispatchDragEvent` with the folder's path, so the page gets a FileSystemDirectoryEntry to
 *   walk): its tree, an empty subfolder included, arrives.
 * Nothing here measures time: waits poll for states, with generous timeouts.
 * Fails (never skips) under CI=true when Chromium or sshd is missing.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { startBridge, type BridgeHandle } from '../helpers/bridge.js';
import { typeLine, until, waitForScreen, waitForState } from '../helpers/browser.js';
import { loginInPage, openTestPage, usePageFixture, type PageEnv } from '../helpers/page-fixture.js';
import { TEST_USER } from '../helpers/sshd.js';

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const row = (page: Page, name: string) => page.locator(`#files-body tr[data-name="${name}"]`);
const sizeOf = async (page: Page, name: string): Promise<string> => (await row(page, name).locator('td.files-size').textContent()) ?? '';
const pathBar = (page: Page) => page.getByLabel('Folder', { exact: true });
const panel = (page: Page) => page.locator('#files-panel');
/** A check of the server's disk, for `until`. */
const disk = (check: () => boolean) => (): Promise<boolean> => Promise.resolve(check());

/** Type a line into the terminal by its keyboard focus (a click could land on an open panel). */
async function typeInTerminal(page: Page, line: string): Promise<void> {
  await page.locator('.xterm-helper-textarea').focus();
  await page.keyboard.type(line);
  await page.keyboard.press('Enter');
}

/** A folder of the SSH user's home (made here, as root, owned by the user), removed when the test ends. */
function userFolder(t: TestContext, home: string, files: Readonly<Record<string, Buffer>> = {}): string {
  const name = `uwsb-e2e-${randomBytes(4).toString('hex')}`;
  const dir = join(home, name);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(dir, { mode: 0o755 });
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, file), bytes, { mode: 0o644 });
  assert.equal(spawnSync('chown', ['-R', `${TEST_USER}:`, dir]).status, 0, 'chown the folder to the SSH user');
  return name;
}

/** Log in, open the Files panel with the toolbar button, wait for the login directory; its absolute path. */
async function openFiles(page: Page, env: PageEnv): Promise<string> {
  await loginInPage(page, env.sshd);
  await page.locator('#files-btn').click();
  await panel(page).waitFor({ state: 'visible' });
  await until(page, async () => (await pathBar(page).inputValue()).startsWith('/'), 'the absolute login directory in the path bar', 20_000);
  return pathBar(page).inputValue();
}

/** Open `folder` (a name in the folder shown) in the panel. */
async function enter(page: Page, home: string, folder: string): Promise<void> {
  await pathBar(page).fill(`${home}/${folder}`);
  await pathBar(page).press('Enter');
  await until(page, async () => (await pathBar(page).inputValue()) === `${home}/${folder}`, `${folder} opened`, 20_000);
}

/**
 * Drop files on `selector` the way a browser does: a `dragover`, then a `drop` whose DataTransfer
 * holds File objects made in the page (`size` bytes each, every byte `fill`).
 */
async function dropFiles(page: Page, selector: string, files: ReadonlyArray<{ name: string; size: number; fill: number }>): Promise<void> {
  const dataTransfer = await page.evaluateHandle((specs) => {
    const dt = new DataTransfer();
    for (const f of specs) dt.items.add(new File([new Uint8Array(f.size).fill(f.fill)], f.name, { type: 'application/octet-stream' }));
    return dt;
  }, files);
  await page.locator(selector).dispatchEvent('dragover', { dataTransfer });
  await page.locator(selector).dispatchEvent('drop', { dataTransfer });
  await dataTransfer.dispose();
}

/** A bridge of its own in front of the fixture's sshd (other flags), closed when the test ends. */
async function ownBridge(t: TestContext, flags: readonly string[]): Promise<BridgeHandle> {
  const bridge = await startBridge(['--host-key-policy', 'accept-new-insecure', ...flags]);
  t.after(() => bridge.close());
  return bridge;
}

void describe('page: Files panel transfers, read-only sessions and files off, in Chromium against a real sshd', () => {
  const { ready } = usePageFixture({ flags: ['--host-key-policy', 'accept-new-insecure'] });

  void it('two files dropped on the terminal upload into the panel\'s folder, listed with their sizes', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1280, height: 800 });
    const home = await openFiles(page, env);
    const folder = userFolder(t, home);
    await enter(page, home, folder);
    await page.getByText('This folder is empty.').waitFor({ state: 'visible' });
    // The panel closed, the files go onto the terminal.
    await page.keyboard.press('Escape');
    await panel(page).waitFor({ state: 'hidden' });
    await dropFiles(page, '#terminal', [{ name: 'dropped-a.bin', size: 1536, fill: 0x61 }, { name: 'dropped-b.txt', size: 200_000, fill: 0x62 }]);
    await until(page, disk(() => existsSync(join(home, folder, 'dropped-a.bin')) && existsSync(join(home, folder, 'dropped-b.txt'))), 'both files on the server', 30_000);
    await page.locator('#files-btn').click();
    await row(page, 'dropped-a.bin').waitFor({ state: 'visible', timeout: 20_000 });
    await row(page, 'dropped-b.txt').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await sizeOf(page, 'dropped-a.bin'), '1.5 KiB');
    assert.equal(await sizeOf(page, 'dropped-b.txt'), '195 KiB');
    assert.deepEqual(readFileSync(join(home, folder, 'dropped-a.bin')), Buffer.alloc(1536, 0x61));
    assert.deepEqual(readFileSync(join(home, folder, 'dropped-b.txt')), Buffer.alloc(200_000, 0x62));
    await until(page, async () => (await page.locator('#files-transfers li[data-state="done"]').count()) === 2, 'both transfers done', 30_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a throttled upload: the bar moves, the toolbar counts it with the panel closed, the terminal echoes, Cancel leaves nothing behind', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, context, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1280, height: 800 });
    const home = await openFiles(page, env);
    const folder = userFolder(t, home);
    await enter(page, home, folder);
    // Chromium's own throttling: the body leaves the browser at 256 KiB/s, so 16 MiB take about a minute.
    const cdp = await context.newCDPSession(page);
    t.after(() => cdp.detach().catch(() => undefined));
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    const size = 16 * 1024 * 1024;
    await page.locator('#files-input').setInputFiles([{ name: 'large.bin', mimeType: 'application/octet-stream', buffer: randomBytes(size) }]);
    const transfer = page.locator('#files-transfers li[data-transfer="large.bin"]');
    await transfer.waitFor({ state: 'visible' });
    const bar = transfer.locator('progress');
    const value = (): Promise<number> => bar.evaluate((p) => (p as unknown as { value: number }).value);
    await until(page, async () => (await value()) > 0, 'the first progress', 30_000);
    const first = await value();
    await until(page, async () => (await value()) > first, 'the progress bar to move on', 30_000);
    assert.equal(await bar.evaluate((p) => (p as unknown as { max: number }).max), size, 'the bar\'s end is the file\'s size');

    // The panel closed: the toolbar's Files button counts the running transfer.
    await page.keyboard.press('Escape');
    await panel(page).waitFor({ state: 'hidden' });
    const count = page.locator('#files-count');
    await count.waitFor({ state: 'visible' });
    assert.equal(await count.textContent(), '1');
    assert.equal(await page.locator('#files-btn').getAttribute('aria-label'), 'Files (1 transfer running)');
    // The terminal answers while the upload runs.
    await typeLine(page, 'echo DURING-$((6*7))-UPLOAD');
    await waitForScreen(page, 'DURING-42-UPLOAD', 20_000);
    assert.equal(await transfer.getAttribute('data-state'), 'running', 'the upload still runs after the echo');
    await until(page, disk(() => readdirSync(join(home, folder)).some((n) => /^\.uwsb-[0-9a-f]{16}\.part$/.test(n))), 'the upload\'s temporary file in the folder', 20_000);

    // Cancel: the row says so, the count goes, the folder is empty again (no file, no temporary).
    await page.locator('#files-btn').click();
    await panel(page).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Cancel large.bin' }).click();
    await until(page, async () => (await transfer.getAttribute('data-state')) === 'cancelled', 'the transfer cancelled', 20_000);
    assert.match((await transfer.locator('.files-transfer-info').textContent()) ?? '', /^Cancelled at /);
    assert.equal(await count.isHidden(), true, 'no running count once cancelled');
    await until(page, disk(() => readdirSync(join(home, folder)).length === 0), 'no file and no .uwsb-*.part left in the folder', 30_000);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByText('This folder is empty.').waitFor({ state: 'visible' });
    await typeInTerminal(page, 'echo AFTER-$((7*8))-CANCEL');
    await waitForScreen(page, 'AFTER-56-CANCEL', 20_000);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a read-only session: "Read-only", no Upload, New folder, Rename or Delete, a drop refused; downloads still work', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    // Without gateway authentication the subject is `anonymous`, which this list does not hold.
    const bridge = await ownBridge(t, ['--files-upload-subjects', 'ci-*']);
    const { page, errors } = await openTestPage(t, env.browser, `${bridge.url}/`, { width: 1280, height: 800 });
    const home = await openFiles(page, env);
    const content = randomBytes(300_000);
    const folder = userFolder(t, home, { 'report.bin': content });
    await page.getByRole('button', { name: 'Refresh' }).click();
    const readOnly = page.getByText('Read-only: this session may list and download files, not change them.');
    await readOnly.waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await page.getByRole('button', { name: 'Upload…' }).isHidden(), true, 'no Upload');
    assert.equal(await page.getByRole('button', { name: 'Upload folder…' }).isHidden(), true, 'no Upload folder');
    assert.equal(await page.getByRole('button', { name: 'New folder' }).isHidden(), true, 'no New folder');
    await row(page, folder).waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await page.getByRole('button', { name: `Rename ${folder}` }).count(), 0, 'no Rename');
    assert.equal(await page.getByRole('button', { name: `Delete ${folder}` }).count(), 0, 'no Delete');
    await page.getByRole('button', { name: `Open folder ${folder}` }).click();
    await row(page, 'report.bin').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await page.getByRole('button', { name: 'Rename report.bin' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: 'Delete report.bin' }).count(), 0);

    // A drop (on the terminal, or on the panel) is refused with a sentence; nothing reaches the server.
    await dropFiles(page, '#terminal', [{ name: 'sneaky.txt', size: 10, fill: 0x63 }]);
    await until(page, async () => ((await page.locator('#files-message').textContent()) ?? '').includes('read-only'), 'the refusal of the drop', 20_000);
    assert.equal(await page.locator('#files-transfers li').count(), 0, 'no transfer started');
    assert.deepEqual(readdirSync(join(home, folder)), ['report.bin']);

    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 30_000 }),
      page.getByRole('button', { name: 'Download report.bin' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'report.bin');
    assert.equal(sha256(readFileSync(await download.path())), sha256(content), 'the downloaded file has the source\'s sha256');
    assert.equal(statSync(join(home, folder, 'report.bin')).size, content.length);
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('--files-enabled=false: no Files button and no Alt+Shift+F; the terminal works', { timeout: 120_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const bridge = await ownBridge(t, ['--files-enabled=false']);
    const { page, errors } = await openTestPage(t, env.browser, `${bridge.url}/`, { width: 1280, height: 800 });
    await loginInPage(page, env.sshd);
    await waitForState(page, 'connected', 20_000);
    // (The More menu folds the same element, so hidden here is hidden there too.)
    assert.equal(await page.locator('#files-btn').isHidden(), true, 'no Files button');
    await page.locator('.xterm-helper-textarea').focus();
    await page.keyboard.press('Alt+Shift+KeyF');
    await typeLine(page, 'echo FILES-$((5*5))-OFF');
    await waitForScreen(page, 'FILES-25-OFF', 20_000);
    assert.equal(await panel(page).isHidden(), true, 'Alt+Shift+F opened nothing');
    assert.equal(await page.locator('#files-btn').isHidden(), true, 'still no Files button');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a name that exists: Replace writes the new bytes, Skip keeps the old ones and uploads nothing', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1280, height: 800 });
    const home = await openFiles(page, env);
    const folder = userFolder(t, home, { 'note.txt': Buffer.from('the old content\n') });
    await enter(page, home, folder);
    await row(page, 'note.txt').waitFor({ state: 'visible', timeout: 20_000 });
    const onDisk = (): Buffer => readFileSync(join(home, folder, 'note.txt'));
    const transfers = page.locator('#files-transfers li');
    const conflict = page.getByRole('dialog', { name: 'The name exists' });

    // Replace: the file on the server has the new bytes afterwards.
    const replacement = randomBytes(70_000);
    await page.locator('#files-input').setInputFiles([{ name: 'note.txt', mimeType: 'text/plain', buffer: replacement }]);
    await conflict.waitFor({ state: 'visible' });
    assert.match((await page.locator('#files-conflict-text').textContent()) ?? '', /^"note\.txt" exists in .*\. Replace it, keep both \(the upload becomes "note \(1\)\.txt"\), or skip this file\?$/);
    await conflict.getByRole('button', { name: 'Replace' }).click();
    await until(page, async () => (await page.locator('#files-transfers li[data-transfer="note.txt"][data-state="done"]').count()) === 1, 'the replacing upload done', 30_000);
    assert.equal(sha256(onDisk()), sha256(replacement), 'the server\'s file has the new content');
    await until(page, async () => (await sizeOf(page, 'note.txt')) === '68 KiB', 'the listing shows the new size', 20_000);
    assert.deepEqual(readdirSync(join(home, folder)), ['note.txt']);

    // Skip: nothing is uploaded; then another file, so that the skip is known to be over.
    await page.locator('#files-input').setInputFiles([
      { name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('must not arrive\n') },
      { name: 'after.txt', mimeType: 'text/plain', buffer: Buffer.from('after the skip\n') },
    ]);
    await conflict.waitFor({ state: 'visible' });
    await conflict.getByRole('button', { name: 'Skip' }).click();
    await until(page, async () => (await page.locator('#files-transfers li[data-transfer="after.txt"][data-state="done"]').count()) === 1, 'the next file done', 30_000);
    assert.equal(await transfers.count(), 2, 'the skipped file never became a transfer');
    assert.equal(sha256(onDisk()), sha256(replacement), 'the old content stays');
    assert.deepEqual(readdirSync(join(home, folder)).sort(), ['after.txt', 'note.txt'], 'nothing else, no .uwsb-*.part');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a folder picked with Upload folder…: its tree arrives with sizes and bytes; again: Keep both, Merge, Skip', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    // The local folder: a nested subfolder, names with spaces and non-ASCII letters, a 0-byte file.
    const local = mkdtempSync(join(tmpdir(), 'uwsb-e2e-pick-'));
    t.after(() => rmSync(local, { recursive: true, force: true }));
    const top = 'Fotos März 2026';
    const src = join(local, top);
    const tree: Record<string, Buffer> = {
      'read me.txt': Buffer.from('a folder upload\n'),
      'empty.bin': Buffer.alloc(0),
      'sub folder/Ünïcödé naïve.txt': Buffer.from('naïve ünïcödé\n'),
      'sub folder/deeper/random.bin': randomBytes(300_000),
    };
    for (const [path, bytes] of Object.entries(tree)) {
      mkdirSync(join(src, path, '..'), { recursive: true });
      writeFileSync(join(src, path), bytes);
    }
    /** The files below `dir` (relative paths, sorted) and their sha256. */
    const files = (dir: string): Record<string, string> => {
      const out: Record<string, string> = {};
      const walk = (d: string): void => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          if (e.isDirectory()) walk(join(d, e.name));
          else out[relative(dir, join(d, e.name))] = sha256(readFileSync(join(d, e.name)));
        }
      };
      walk(dir);
      return out;
    };

    const { page, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1280, height: 800 });
    const home = await openFiles(page, env);
    const folder = userFolder(t, home);
    await enter(page, home, folder);
    await page.getByText('This folder is empty.').waitFor({ state: 'visible' });
    const picker = page.locator('#files-folder-input');
    const doneCount = (): Promise<number> => page.locator('#files-transfers li[data-state="done"]').count();

    await picker.setInputFiles(src);
    await until(page, async () => (await doneCount()) === 4, 'the four files uploaded', 30_000);
    assert.deepEqual(files(join(home, folder, top)), files(src), 'the tree on the server is the local one, byte for byte');
    assert.equal(statSync(join(home, folder, top, 'empty.bin')).size, 0);
    assert.equal(await page.locator(`#files-transfers li[data-transfer="${top}/sub folder/deeper/random.bin"]`).count(), 1, 'the transfer named by its path');
    await row(page, top).waitFor({ state: 'visible', timeout: 20_000 });
    await page.getByRole('button', { name: `Open folder ${top}` }).click();
    await row(page, 'sub folder').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await sizeOf(page, 'empty.bin'), '0 B');
    assert.equal(await sizeOf(page, 'read me.txt'), `${tree['read me.txt']?.length ?? -1} B`);
    await page.getByRole('button', { name: `Open folder sub folder` }).click();
    await row(page, 'Ünïcödé naïve.txt').waitFor({ state: 'visible', timeout: 20_000 });
    await page.getByRole('button', { name: 'Open folder deeper' }).click();
    await row(page, 'random.bin').waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await sizeOf(page, 'random.bin'), '293 KiB');
    await enter(page, home, folder);
    await row(page, top).waitFor({ state: 'visible', timeout: 20_000 });

    // Picked again: the folder's name exists. Keep both makes "name (1)" with the same tree.
    const conflict = page.getByRole('dialog', { name: 'The name exists' });
    await picker.setInputFiles(src);
    await conflict.waitFor({ state: 'visible' });
    assert.equal(await page.locator('#files-conflict-text').textContent(),
      `A folder "${top}" exists in ${home}/${folder}. Merge into it (its files of the same names are replaced), keep both (the upload becomes "${top} (1)"), or skip this folder?`);
    await conflict.getByRole('button', { name: 'Keep both' }).click();
    await until(page, async () => (await doneCount()) === 8, 'the second copy uploaded', 30_000);
    assert.deepEqual(files(join(home, folder, `${top} (1)`)), files(src));
    await row(page, `${top} (1)`).waitFor({ state: 'visible', timeout: 20_000 });

    // Merge: a changed file replaced, a new one added, the others the same; no second folder.
    tree['read me.txt'] = Buffer.from('changed before the merge\n');
    writeFileSync(join(src, 'read me.txt'), tree['read me.txt']);
    writeFileSync(join(src, 'sub folder', 'new.txt'), 'new in the merge\n');
    await picker.setInputFiles(src);
    await conflict.waitFor({ state: 'visible' });
    await conflict.getByRole('button', { name: 'Merge' }).click();
    await until(page, async () => (await doneCount()) === 13, 'the merge uploaded', 30_000);
    assert.deepEqual(files(join(home, folder, top)), files(src), 'the merged folder is the changed local one');
    assert.deepEqual(readdirSync(join(home, folder)).sort(), [top, `${top} (1)`].sort());

    // Skip: nothing is made or uploaded (then a lone file, so that the skip is known to be over).
    writeFileSync(join(src, 'sub folder', 'skipped.txt'), 'must not arrive\n');
    await picker.setInputFiles(src);
    await conflict.waitFor({ state: 'visible' });
    await conflict.getByRole('button', { name: 'Skip' }).click();
    await page.locator('#files-input').setInputFiles([{ name: 'marker.txt', mimeType: 'text/plain', buffer: Buffer.from('marker\n') }]);
    await until(page, async () => (await doneCount()) === 14, 'the marker uploaded', 30_000);
    assert.equal(await page.locator('#files-transfers li').count(), 14, 'the skipped folder queued nothing');
    assert.equal(existsSync(join(home, folder, top, 'sub folder', 'skipped.txt')), false);
    assert.deepEqual(readdirSync(join(home, folder)).sort(), [top, `${top} (1)`, 'marker.txt'].sort(), 'no third folder, no .uwsb-*.part');
    assert.deepEqual(errors, [], 'no console or page errors');
  });

  void it('a folder dropped on the panel (a real drag of a local folder): walked, its tree and empty subfolder arrive', { timeout: 180_000 }, async (t) => {
    const env = ready(t);
    if (env === undefined) return;
    const local = mkdtempSync(join(tmpdir(), 'uwsb-e2e-drop-'));
    t.after(() => rmSync(local, { recursive: true, force: true }));
    const src = join(local, 'dropped tree');
    mkdirSync(join(src, 'a', 'b'), { recursive: true });
    mkdirSync(join(src, 'empty'));
    const deep = randomBytes(150_000);
    writeFileSync(join(src, 'top.txt'), 'top\n');
    writeFileSync(join(src, 'a', 'b', 'deep.bin'), deep);
    writeFileSync(join(src, 'a', 'zero'), '');

    const { page, context, errors } = await openTestPage(t, env.browser, `${env.bridge.url}/`, { width: 1280, height: 800 });
    const home = await openFiles(page, env);
    const folder = userFolder(t, home);
    await enter(page, home, folder);
    await page.getByText('This folder is empty.').waitFor({ state: 'visible' });
    const box = await page.locator('#files-drop').boundingBox();
    assert.ok(box !== null, 'the drop zone is shown');
    const cdp = await context.newCDPSession(page);
    t.after(() => cdp.detach().catch(() => undefined));
    const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    const data = { items: [], files: [src], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    const server = join(home, folder, 'dropped tree');
    await until(page, async () => (await page.locator('#files-transfers li[data-state="done"]').count()) === 3, 'the three files uploaded', 30_000);
    assert.ok(statSync(join(server, 'empty')).isDirectory(), 'the empty subfolder is made too');
    assert.deepEqual(readdirSync(server).sort(), ['a', 'empty', 'top.txt']);
    assert.equal(sha256(readFileSync(join(server, 'a', 'b', 'deep.bin'))), sha256(deep));
    assert.equal(statSync(join(server, 'a', 'zero')).size, 0);
    assert.equal(readFileSync(join(server, 'top.txt'), 'utf8'), 'top\n');
    await row(page, 'dropped tree').waitFor({ state: 'visible', timeout: 20_000 });
    assert.deepEqual(errors, [], 'no console or page errors');
  });
});
