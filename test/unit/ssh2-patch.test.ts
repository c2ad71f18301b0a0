/**
 * The ssh2 patch (patches/ssh2+VERSION.patch: the window options, src/ssh/channel-window.ts, and
 * SFTP's readView, src/ssh/sftp-pipe.ts) is in place and matches the ssh2 it was made for. This fails when `npm ci` did not apply the patch, when ssh2
 * was bumped without re-creating it (docs/performance.md says how), or when package.json's pin
 * and the patch's version part ways.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ssh2WindowPatched, widen } from '../../src/ssh/channel-window.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);

interface PackageJson {
  readonly version: string;
  readonly dependencies: Record<string, string>;
  readonly scripts: Record<string, string>;
  readonly files: readonly string[];
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;
const pin = pkg.dependencies.ssh2 ?? '';

void test('package.json pins ssh2 to one exact version and applies patches/ on install', () => {
  assert.match(pin, /^\d+\.\d+\.\d+$/, `ssh2 is "${pin}" in package.json: the patch fits one version only, pin it exactly`);
  assert.equal(pkg.scripts.postinstall, 'node scripts/apply-patches.mjs', 'postinstall applies the patches');
  assert.ok(pkg.files.includes('patches') && pkg.files.includes('scripts/apply-patches.mjs'), 'the package carries patches/ and the script (its postinstall needs them)');
  assert.ok(pkg.dependencies['patch-package'] !== undefined, 'patch-package is a dependency (the installed package runs it)');
});

void test('the ssh2 patch file is for the pinned version', () => {
  const patches = readdirSync(join(ROOT, 'patches')).filter((f) => f.startsWith('ssh2+'));
  assert.deepEqual(patches, [`ssh2+${pin}.patch`], 'one ssh2 patch, named for the version package.json pins');
});

void test('the installed ssh2 is the pinned version and carries the window patch', () => {
  const installed = (require('ssh2/package.json') as { version: string }).version;
  assert.equal(installed, pin, 'installed ssh2 differs from the pin: run npm ci');
  assert.equal(ssh2WindowPatched(), true, 'ssh2/lib/Channel.js has no WINDOW_OPTIONS marker: the postinstall (patch-package) did not run or did not apply');
});

void test('the installed ssh2 carries readView, the copy-free SFTP read src/ssh/sftp-pipe.ts uses', () => {
  const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: { prototype: { readView?: unknown } } };
  assert.equal(typeof SFTP.prototype.readView, 'function', 'ssh2/lib/protocol/SFTP.js has no readView: the patch did not apply');
});

void test('a patched channel tops its window up to its own target', () => {
  const channel = require('ssh2/lib/Channel.js') as { windowAdjust: (c: unknown) => void; windowThreshold: (c: unknown) => number };
  const adjusts: number[] = [];
  const fake = {
    incoming: { window: 10_000, maxWindow: 64 * 1024 },
    outgoing: { id: 7, state: 'open' },
    _client: { _protocol: { channelWindowAdjust: (_id: number, amount: number) => adjusts.push(amount) } },
  };
  assert.equal(channel.windowThreshold(fake), 32 * 1024);
  channel.windowAdjust(fake);
  assert.deepEqual(adjusts, [64 * 1024 - 10_000]);
  assert.equal(fake.incoming.window, 64 * 1024);
  // widen() raises the target and grants the difference at once.
  widen(fake, 256 * 1024);
  assert.equal(fake.incoming.maxWindow, 256 * 1024);
  assert.deepEqual(adjusts, [64 * 1024 - 10_000, 192 * 1024]);
  assert.equal(fake.incoming.window, 256 * 1024);
});
