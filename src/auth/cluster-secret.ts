/**
 * The keyring read from `--cluster-secret-file` (format and rules: ./keyring-file.ts). Read when
 * the bridge starts (a missing, unprotected or bad file stops the start: KeyringFileError, exit 2)
 * and again by `reload()` (SIGHUP, through App.reload): a file that fails then keeps the keyring
 * in force, and the error is thrown for the reload's log line. Every signature and check asks
 * the keyring in force at that moment, so a reload takes effect at the next link or token.
 */
import { readFileSync, statSync } from 'node:fs';
import type { KeyPurpose, Keyring, KeyringKey } from './keyring.js';
import { KeyringFileError, keyringOf, parseKeyringFile, permissionProblem } from './keyring-file.js';

/** A keyring file is a few lines; anything much larger is not one. */
const MAX_FILE_BYTES = 64 * 1024;

export class ClusterSecretFile implements Keyring {
  readonly path: string;
  #keyring: Keyring;
  #ids: readonly string[];

  private constructor(path: string, loaded: { keyring: Keyring; ids: readonly string[] }) {
    this.path = path;
    this.#keyring = loaded.keyring;
    this.#ids = loaded.ids;
  }

  /** Read and check the file; throws KeyringFileError naming the file (never a secret). */
  static load(path: string): ClusterSecretFile {
    return new ClusterSecretFile(path, read(path));
  }

  /** Read the file again; on any failure the keyring in force stays and the error is thrown. */
  reload(): void {
    const loaded = read(this.path);
    this.#keyring = loaded.keyring;
    this.#ids = loaded.ids;
  }

  /** The key ids in force, the current one first (for the log; never a secret). */
  get ids(): readonly string[] {
    return this.#ids;
  }

  current(purpose: KeyPurpose): KeyringKey {
    return this.#keyring.current(purpose);
  }

  byId(purpose: KeyPurpose, id: string): Buffer | undefined {
    return this.#keyring.byId(purpose, id);
  }
}

function read(path: string): { keyring: Keyring; ids: readonly string[] } {
  const source = `cluster-secret-file ${path}`;
  let text: string;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new KeyringFileError(`${source}: not a regular file`);
    const problem = permissionProblem(stat, process.getuid?.());
    if (problem !== null) throw new KeyringFileError(`${source}: ${problem}`);
    if (stat.size > MAX_FILE_BYTES) throw new KeyringFileError(`${source}: larger than ${MAX_FILE_BYTES / 1024} KiB, not a keyring file`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof KeyringFileError) throw err;
    throw new KeyringFileError(`${source}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const secrets = parseKeyringFile(text, source);
  return { keyring: keyringOf(secrets), ids: Object.freeze(secrets.map((s) => s.id)) };
}
