// The package's postinstall: applies the patches in patches/ (patch-package) to the ssh2 this
// package resolves, wherever npm put it. In this repository that is ./node_modules/ssh2; in a
// project that installed the package, npm usually hoists ssh2 next to it (the project's
// node_modules), where `patch-package` run in the package's own folder would not look.
// Fails the install when a patch does not apply (--error-on-fail); see docs/performance.md
// (the SSH window) for what the patch does and how to re-make it for a new ssh2.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const patches = fileURLToPath(new URL('../patches', import.meta.url));
const require = createRequire(import.meta.url);
// <root>/node_modules/ssh2/package.json: patch-package works from <root>.
const root = resolve(dirname(require.resolve('ssh2/package.json')), '../..');
const cli = require.resolve('patch-package');
const args = [cli, '--error-on-fail', '--patch-dir', relative(root, patches)];
const run = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
