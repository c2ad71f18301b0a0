#!/usr/bin/env node
// Builds the browser page into dist/web/: assets/app.js (bundled, minified ESM with a linked
// source map; code loaded on demand, the recordings view's asciinema player, goes into
// assets/chunk-*.js), assets/app.css (xterm.css + asciinema-player.css + web/styles.css) and the
// static files (index.html, favicon.svg). No inline scripts and no external URLs, so it runs under the bridge's strict CSP.
//
// Also, for the tests only (never shipped): dist/web-test/, the same page with the test hooks
// (`window.__uwsb`, web/src/hooks.ts) that the browser tests drive (the production bundle is built
// with __UWSB_TEST_HOOKS__ false, so they are dead code and left out), and the unit tests of the
// page's pure modules (test/unit/web/*.test.ts) bundled for Node into dist/test/unit/web/.
// Exits non-zero on any error. Usage: node scripts/build-web.mjs
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const webDir = join(root, 'web');
const webTests = join(root, 'test', 'unit', 'web');
const STATIC = new Set(['.html', '.svg', '.ico', '.png', '.webmanifest', '.txt']);
const common = { bundle: true, minify: true, logLevel: 'warning', legalComments: 'eof', absWorkingDir: root };

/** One build of the page into `outDir`; `testHooks` sets __UWSB_TEST_HOOKS__ (web/src/build-flags.d.ts). */
async function buildPage(outDir, testHooks) {
  const assets = join(outDir, 'assets');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });
  await Promise.all([
    build({
      ...common,
      entryPoints: [join(webDir, 'src', 'main.ts')],
      outdir: assets,
      entryNames: 'app',
      chunkNames: 'chunk-[hash]',
      splitting: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome100', 'firefox100', 'safari15.4', 'edge100'],
      sourcemap: 'linked',
      tsconfig: join(webDir, 'tsconfig.json'),
      define: { 'process.env.NODE_ENV': '"production"', __UWSB_TEST_HOOKS__: String(testHooks) },
    }),
    build({
      ...common,
      stdin: {
        contents: '@import "@xterm/xterm/css/xterm.css";\n@import "asciinema-player/dist/bundle/asciinema-player.css";\n@import "./styles.css";\n',
        resolveDir: webDir,
        sourcefile: 'app.css',
        loader: 'css',
      },
      outfile: join(assets, 'app.css'),
      target: ['chrome100', 'firefox100', 'safari15'],
      loader: { '.svg': 'dataurl', '.woff2': 'dataurl' },
    }),
  ]);
  for (const name of await readdir(webDir)) {
    const dot = name.lastIndexOf('.');
    if (dot > 0 && STATIC.has(name.slice(dot))) await copyFile(join(webDir, name), join(outDir, name));
  }
}

/** The page's unit tests, each bundled with the web modules it imports, for `node --test`. */
async function buildUnitTests() {
  const outDir = join(root, 'dist', 'test', 'unit', 'web');
  await rm(outDir, { recursive: true, force: true });
  const entryPoints = (await readdir(webTests)).filter((n) => n.endsWith('.test.ts')).map((n) => join(webTests, n));
  await build({
    bundle: true,
    logLevel: 'warning',
    absWorkingDir: root,
    entryPoints,
    outdir: outDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    tsconfig: join(webTests, 'tsconfig.json'),
  });
}

async function main() {
  const started = Date.now();
  const outDir = join(root, 'dist', 'web');
  await Promise.all([buildPage(outDir, false), buildPage(join(root, 'dist', 'web-test'), true), buildUnitTests()]);
  console.log(`web page built into ${outDir} (and the test build) in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
