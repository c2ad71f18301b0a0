/**
 * Go `time.ParseDuration` syntax, because the seed bridge was a Go program and its users'
 * flags, env files and unit files already hold values like `30s`, `1m30s` or `1.5s`.
 * Negative durations are rejected: no timeout in this program has a meaning below zero.
 */

/** Nanoseconds per unit. Both micro signs are accepted, as Go does (U+00B5 and U+03BC). */
const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n],
  ['\u03bcs', 1_000n],
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

/** Go stores durations as int64 nanoseconds; anything larger does not parse there either. */
const MAX_NS = 2n ** 63n - 1n;

/** One `<number><unit>` component: integer digits, optional fraction, then the unit letters. */
const COMPONENT = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

/**
 * Parse a Go duration into milliseconds. The result may have a fractional part (`1500us` is
 * 1.5): the caller decides how to round, because rounding a positive value to 0 can turn a
 * timeout into "disabled".
 * @throws {SyntaxError} on empty input, a sign, a missing or unknown unit, or stray characters.
 * @throws {RangeError} when the value does not fit Go's int64 nanoseconds.
 */
export function parseDuration(text: string): number {
  if (text === '0') return 0;
  if (text === '') throw new SyntaxError('empty duration');
  if (text.startsWith('-')) throw new SyntaxError(`negative duration "${text}"`);
  let rest = text;
  let totalNs = 0n;
  while (rest !== '') {
    const m = COMPONENT.exec(rest);
    const whole = m?.[1] ?? '';
    const frac = m?.[2] ?? '';
    const unit = m?.[3] ?? '';
    if (m === null || (whole === '' && frac === '')) throw new SyntaxError(`invalid duration "${text}"`);
    if (unit === '') throw new SyntaxError(`missing unit in duration "${text}"`);
    const perUnit = UNITS.get(unit);
    if (perUnit === undefined) {
      throw new SyntaxError(`unknown unit "${unit}" in duration "${text}", units are ns, us, ms, s, m, h`);
    }
    totalNs += BigInt(whole === '' ? '0' : whole) * perUnit;
    if (frac !== '') totalNs += (BigInt(frac) * perUnit) / 10n ** BigInt(frac.length);
    if (totalNs > MAX_NS) throw new RangeError(`duration "${text}" is out of range`);
    rest = rest.slice(m[0].length);
  }
  return Number(totalNs) / 1e6;
}
