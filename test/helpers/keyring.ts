/**
 * Keyring files (`--cluster-secret-file`) for the tests: a file of `ID SECRET` lines, mode 0600,
 * in its own temporary directory removed after the test. Every secret is registered
 * (./secrets.ts), so a bridge that logs one fails its test. `clusterKeyring` is the one file of a
 * test's cluster nodes (every node the test starts shares it, as the nodes of a cluster must).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { registerSecret } from './secrets.js';

export interface TestKey {
  readonly id: string;
  /** base64url of 32 random bytes, as `webssh-bridge new-secret` writes it. */
  readonly secret: string;
}

export interface KeyringHandle {
  readonly path: string;
  /** Replace the file's lines (the first is the current key); the bridge reads them at its next reload. */
  write(keys: readonly TestKey[]): void;
}

export function newTestKey(id: string): TestKey {
  return { id, secret: registerSecret(randomBytes(32).toString('base64url')) };
}

/** A keyring file holding `keys` (one fresh key by default), removed after the test. */
export function useKeyring(t: TestContext, keys: readonly TestKey[] = [newTestKey('k1')]): KeyringHandle {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-keyring-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'keyring');
  const write = (list: readonly TestKey[]): void => writeFileSync(path, `# test keyring\n${list.map((k) => `${k.id} ${k.secret}\n`).join('')}`, { mode: 0o600 });
  write(keys);
  return { path, write };
}

const perTest = new WeakMap<TestContext, KeyringHandle>();

/** The keyring file every cluster node of this test shares (made at the first call). */
export function clusterKeyring(t: TestContext): KeyringHandle {
  let handle = perTest.get(t);
  if (handle === undefined) {
    handle = useKeyring(t);
    perTest.set(t, handle);
  }
  return handle;
}

/** The flags that give a node of this test's cluster its keyring file. */
export function keyringFlags(t: TestContext): string[] {
  return ['--cluster-secret-file', clusterKeyring(t).path];
}
