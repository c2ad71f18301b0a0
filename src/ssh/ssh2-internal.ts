/**
 * One of ssh2's internal modules, for what its public API does not tell: the window patch's
 * marker and `windowAdjust` (./channel-window.ts), whether its native crypto binding loaded
 * (./crypto-binding.ts). Loaded with `require`, so it is the very instance ssh2's client uses
 * (one CommonJS cache); loaded once; null when it cannot be (an ssh2 laid out differently).
 */
import { createRequire } from 'node:module';

const loaded = new Map<string, unknown>();

export function ssh2Internal<T>(path: `ssh2/lib/${string}`): T | null {
  if (!loaded.has(path)) {
    try {
      loaded.set(path, createRequire(import.meta.url)(path));
    } catch {
      loaded.set(path, null);
    }
  }
  return (loaded.get(path) ?? null) as T | null;
}
