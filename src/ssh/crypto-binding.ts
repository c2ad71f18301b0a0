/**
 * ssh2's optional native crypto binding (lib/protocol/crypto/build/Release/sshcrypto.node, built
 * by ssh2's install script with node-gyp; package.json `allowScripts` lets it run). With it,
 * AES-GCM and ChaCha20-Poly1305 keep one cipher context per direction; without it ssh2 builds a
 * Node cipher object per packet. Measured on 2 cores (docs/performance.md, "The native crypto
 * binding"): the bridge's CPU per MiB of output falls by 25-45%. Without a compiler the build
 * fails quietly (ssh2's install script exits 0), and the bridge runs the same, on Node's crypto.
 */
import type { Logger } from '../log.js';
import { ssh2Internal } from './ssh2-internal.js';

/** Whether ssh2 loaded its native binding. */
export function ssh2NativeCrypto(): boolean {
  return ssh2Internal<{ bindingAvailable?: unknown }>('ssh2/lib/protocol/crypto.js')?.bindingAvailable === true;
}

/** Say once at start when ssh2 runs without its binding, and what it costs. Returns whether it said so. */
export function noteCryptoBinding(logger: Logger): boolean {
  if (ssh2NativeCrypto()) return false;
  logger.info(
    { event: 'ssh2_crypto', native: false },
    'ssh2 runs without its native crypto binding (it was not built: no compiler, or installed with scripts off): SSH encryption costs more CPU per MiB; with python3, make and g++ present, `npm rebuild ssh2` where the bridge is installed builds it',
  );
  return true;
}
