/**
 * A small seeded PRNG for the fuzzers: xoshiro128** seeded through splitmix32, no dependency.
 * Everything a fuzz run does is derived from one 32-bit seed, and every case from
 * `deriveSeed(seed, index)`, so a single failing case can be replayed on its own.
 */
import { randomBytes } from 'node:crypto';

/** splitmix32 step: spreads a 32-bit seed over the generator state. */
function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let z = next;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [next, (z ^ (z >>> 16)) >>> 0];
}

/** The seed of case `index` of a run with `seed`: independent streams, stable across runs. */
export function deriveSeed(seed: number, index: number): number {
  const [, a] = splitmix32((seed ^ Math.imul(index + 1, 0x27d4eb2d)) >>> 0);
  const [, b] = splitmix32((a + index) >>> 0);
  return b;
}

/** A seed from the command line or the environment: decimal, 0x-hex, or any text (hashed). */
export function parseSeed(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(BigInt(t) & 0xffffffffn);
  if (/^0x[0-9a-f]+$/i.test(t)) return Number(BigInt(t) & 0xffffffffn);
  let h = 0x811c9dc5; // FNV-1a
  for (let i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** A fresh seed for exploratory runs (printed, so any finding can be replayed). */
export function randomSeed(): number {
  return randomBytes(4).readUInt32BE(0);
}

export class Rng {
  readonly seed: number;
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    let s = this.seed;
    let out: number;
    [s, out] = splitmix32(s);
    this.#a = out;
    [s, out] = splitmix32(s);
    this.#b = out;
    [s, out] = splitmix32(s);
    this.#c = out;
    [, out] = splitmix32(s);
    this.#d = out;
    if ((this.#a | this.#b | this.#c | this.#d) === 0) this.#a = 1;
  }

  /** Uniform 32-bit unsigned integer (xoshiro128**). */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.#b, 5), 7), 9) >>> 0;
    const t = this.#b << 9;
    this.#c ^= this.#a;
    this.#d ^= this.#b;
    this.#b ^= this.#c;
    this.#a ^= this.#d;
    this.#c ^= t;
    this.#d = rotl(this.#d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 0x100000000;
  }

  /** Uniform integer in [0, n), n >= 1. */
  int(n: number): number {
    if (n <= 1) return 0;
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi], inclusive. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** One value by weight: `[[3, 'a'], [1, 'b']]` picks 'a' three times as often. */
  weighted<T>(entries: ReadonlyArray<readonly [number, T]>): T {
    let total = 0;
    for (const [w] of entries) total += w;
    let x = this.float() * total;
    for (const [w, v] of entries) {
      x -= w;
      if (x < 0) return v;
    }
    const last = entries[entries.length - 1];
    if (last === undefined) throw new Error('weighted pick from an empty list');
    return last[1];
  }

  /** A size in [0, max], log-uniform: small sizes are common, big ones still happen. */
  size(max: number): number {
    if (max <= 0) return 0;
    const bits = Math.log2(max + 1);
    return Math.min(max, Math.floor(2 ** (this.float() * bits)) - 1 + this.int(2));
  }

  bytes(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) out.writeUInt32LE(this.u32(), i);
    for (; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** An independent generator for sub-case `label`, stable whatever this one draws later. */
  fork(label: number): Rng {
    return new Rng(deriveSeed(this.seed, label));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
