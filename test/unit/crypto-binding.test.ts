/**
 * package.json lets ssh2's install script build its native crypto binding (`allowScripts`). Where
 * the machine can build it (python3, make, g++ and Node's headers, which npm is pointed at with
 * its `nodedir` setting or finds in /usr/include/node), `npm ci` must have built it and ssh2 must
 * use it; where it cannot, ssh2 runs on Node's crypto and the bridge says so once at start
 * (package.test.ts installs with scripts off and sees that).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { noteCryptoBinding, ssh2NativeCrypto } from '../../src/ssh/crypto-binding.js';
import { createLogger } from '../../src/log.js';

function onPath(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function nodeHeaders(): boolean {
  let nodedir = process.env['npm_config_nodedir'] ?? '';
  if (nodedir === '') {
    try {
      nodedir = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).trim();
    } catch { /* no npm config: look in the usual place only */ }
  }
  const dirs = [nodedir, '/usr'].filter((d) => d !== '' && d !== 'undefined' && d !== 'null');
  return dirs.some((d) => existsSync(join(d, 'include', 'node', 'node.h')));
}

void test('ssh2 uses its native crypto binding exactly when this machine can build it', () => {
  const canBuild = ['python3', 'make', 'g++'].every(onPath) && nodeHeaders();
  assert.equal(ssh2NativeCrypto(), canBuild, canBuild
    ? 'the toolchain is here, so `npm ci` should have built ssh2\'s binding: is ssh2 allowed in package.json allowScripts?'
    : 'no toolchain here, yet ssh2 found a binding');
});

void test('the start-up note appears only without the binding', () => {
  const lines: string[] = [];
  const logger = createLogger(false, { write: (s: string) => { lines.push(s); } });
  assert.equal(noteCryptoBinding(logger), !ssh2NativeCrypto());
  assert.equal(lines.some((l) => l.includes('"event":"ssh2_crypto"')), !ssh2NativeCrypto());
});
