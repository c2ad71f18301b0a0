/**
 * The npm package as a user gets it. A copy of the sources is packed with `npm pack` (so the
 * prepack build runs there, not over this worktree's dist/ that other tests read); the tarball
 * holds what runs and nothing else (no tests, no bench, no test page, no source maps, no .ts);
 * it is installed into an empty folder with `npm install --omit=dev --ignore-scripts`
 * (dependencies from the npm registry, the local cache first), so nothing from devDependencies
 * is there to be needed; then `npx webssh-bridge --version` and `--help` answer, and the installed
 * bin serves the page and a real SSH session (the in-process ssh2 server) over a WebSocket. With
 * scripts off, the postinstall did not patch ssh2: the bridge still works, with ssh2's own SSH
 * window, and logs `ssh2_unpatched` once at start (src/ssh/channel-window.ts); nor was ssh2's
 * native crypto binding built: it runs on Node's crypto and logs `ssh2_crypto` once
 * (src/ssh/crypto-binding.ts).
 * Prints the tarball's size (README.md states it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertNoSecrets } from '../helpers/cli.js';
import { startFakeSsh, FAKE_PROMPT } from '../helpers/ssh-server.js';
import { openWs } from '../helpers/ws-client.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
/** What `npm pack` needs to build: the sources, the page, the scripts, the configs (no dist, no node_modules). */
const SOURCES = ['package.json', 'package-lock.json', 'tsconfig.json', 'LICENSE', 'README.md', 'src', 'web', 'scripts', 'docs', 'deploy', 'patches', 'test', 'bench'];

/** This process's environment without npm's own variables (an `npm test` parent sets many). */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^npm_/i.test(k)) env[k] = v;
  return env;
}

function npm(args: readonly string[], cwd: string, command = 'npm'): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, env: npmEnv(), encoding: 'utf8', timeout: 240_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, `${command} ${args.join(' ')} in ${cwd} failed (${String(r.status ?? r.signal)}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r;
}

interface Packed { filename: string; size: number; unpackedSize: number; files: { path: string }[] }

void test('npm pack -> npm install --omit=dev -> npx webssh-bridge: version, help, the page and an SSH session', { timeout: 600_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'uwsb-package-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));

  // Pack a copy: prepack (the build) runs in it, with this worktree's node_modules for tsc and esbuild.
  const src = join(tmp, 'src');
  for (const entry of SOURCES) cpSync(join(ROOT, entry), join(src, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir');
  const out = join(tmp, 'out');
  mkdirSync(out);
  const packOut = npm(['pack', '--json', '--pack-destination', out], src).stdout;
  const [packed] = JSON.parse(packOut.slice(packOut.search(/^\[/m))) as Packed[];
  assert.ok(packed !== undefined, packOut);
  const tarball = join(out, packed.filename);
  const bytes = statSync(tarball).size;
  t.diagnostic(`tarball ${basename(tarball)}: ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(2)} MiB), unpacked ${(packed.unpackedSize / 1024 / 1024).toFixed(2)} MiB, ${packed.files.length} files`);

  // What ships: the server code, the built page, the docs, the systemd unit, README and LICENSE, the ssh2 patch and the postinstall that applies it; nothing else.
  const files = packed.files.map((f) => f.path);
  for (const needed of ['package.json', 'LICENSE', 'README.md', 'dist/src/cli.js', 'dist/src/version.js', 'dist/web/index.html', 'dist/web/assets/app.js', 'dist/web/assets/app.css', 'docs/configuration.md', 'docs/deployment.md', 'docs/examples/config.json', 'deploy/webssh-bridge.service', `patches/ssh2+${PKG.dependencies.ssh2 ?? ''}.patch`, 'scripts/apply-patches.mjs']) {
    assert.ok(files.includes(needed), `${needed} missing from the tarball`);
  }
  const stray = files.filter((f) => !/^(package\.json|LICENSE|README\.md|dist\/src\/.+\.js|dist\/web\/.+|docs\/.+|deploy\/.+|patches\/.+\.patch|scripts\/apply-patches\.mjs)$/.test(f) || f.endsWith('.map') || f.endsWith('.ts'));
  assert.deepEqual(stray, [], 'files that do not run (tests, bench, the test page, source maps, sources)');

  // Install into an empty folder, without devDependencies and without install scripts.
  const app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'uwsb-install-check', version: '1.0.0', private: true }));
  npm(['install', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], app);
  for (const dev of Object.keys(PKG.devDependencies)) assert.ok(!existsSync(join(app, 'node_modules', dev)), `devDependency ${dev} was installed`);

  const version = npm(['webssh-bridge', '--version'], app, 'npx');
  assert.equal(version.stdout, `${PKG.version}\n`);
  const help = npm(['webssh-bridge', '--help'], app, 'npx');
  assert.match(help.stdout, /^Usage: webssh-bridge \[flags\]/);
  assert.match(help.stdout, /--log-format <word>/);

  // The installed bin serves the page and a session.
  const ssh = await startFakeSsh();
  t.after(() => ssh.close());
  const bin = join(app, 'node_modules', '.bin', 'webssh-bridge');
  const child = spawn(bin, ['--workers', '1', '--server-address', '127.0.0.1:0', '--log-format', 'json', '--host-key-policy', 'accept-new-insecure'], { cwd: app, env: { PATH: process.env.PATH ?? '' } });
  let output = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => { output += d; });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 30 s:\n${output}`)), 30_000);
    child.stdout.on('data', (d: string) => {
      output += d;
      const m = /"event":"listening"[^\n]*"port":(\d+)/.exec(output);
      if (m !== null) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => reject(new Error(`the installed bridge exited (${String(code)}):\n${output}`)));
  });

  // Installed without scripts, ssh2 is not patched: the bridge runs with ssh2's window and says so once.
  assert.equal(output.match(/"event":"ssh2_unpatched"/g)?.length, 1, `one ssh2_unpatched warning at start:\n${output}`);
  // Nor did ssh2's install script build its native crypto binding: the bridge runs on Node's crypto and says so once.
  assert.equal(output.match(/"event":"ssh2_crypto"/g)?.length, 1, `one ssh2_crypto note at start:\n${output}`);

  const page = await fetch(`http://127.0.0.1:${port}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await page.text(), /src="assets\/app\.js"/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/assets/app.js`)).status, 200);
  assert.equal(((await (await fetch(`http://127.0.0.1:${port}/config.json`)).json()) as { version?: unknown }).version, PKG.version);
  assert.equal(((await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { version?: unknown }).version, PKG.version);

  const ws = await openWs(`ws://127.0.0.1:${port}/ws/127.0.0.1/${ssh.port}`);
  ws.sendJson({ username: ssh.username, password: ssh.password });
  await ws.waitForOutput(FAKE_PROMPT);
  ws.sendText('exit 3\r');
  const closed = await ws.closed;
  assert.equal(closed.code, 1000);
  assert.match(closed.reason, /exit status 3/);

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assertNoSecrets(output, "the installed bridge's output");
});
