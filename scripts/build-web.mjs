#!/usr/bin/env node
// Builds the browser page into dist/web/: assets/app.js (bundled, minified ESM with a linked
// source map; code loaded on demand, the recordings view's asciinema player, goes into
// assets/chunk-*.js), assets/app.css (xterm.css + asciinema-player.css + web/styles.css) and the
// static files (index.html, favicon.svg). No inline scripts and no external URLs, so it runs under the bridge's strict CSP.
// Exits non-zero on any error. Usage: node scripts/build-web.mjs
import { build } from 'esbuild';
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const webDir = join(root, 'web');
const outDir = join(root, 'dist', 'web');
const assets = join(outDir, 'assets');
const STATIC = new Set(['.html', '.svg', '.ico', '.png', '.webmanifest', '.txt']);

async function main() {
  const started = Date.now();
  await rm(outDir, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });

  const common = { bundle: true, minify: true, logLevel: 'warning', legalComments: 'eof', absWorkingDir: root };
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
      define: { 'process.env.NODE_ENV': '"production"' },
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
  console.log(`web page built into ${outDir} in ${Date.now() - started} ms`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
