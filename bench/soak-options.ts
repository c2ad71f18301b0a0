/**
 * The soak's options: one table (name, default, unit, rule, help), parsed from argv with
 * node:util parseArgs, validated once and frozen. `--help` prints the same table, so the help
 * cannot drift from what is parsed.
 */
import { parseArgs } from 'node:util';

export interface SoakOptions {
  readonly storm: boolean;
  readonly clients: number;
  readonly minutes: number;
  readonly sampleSeconds: number;
  readonly steadyAfterMinutes: number;
  readonly rssBandMiB: number;
  readonly settleSeconds: number;
  readonly stormRound: number;
  readonly stormRounds: number;
  readonly stormConcurrency: number;
  readonly stormPauseSeconds: number;
}

type NumberKey = Exclude<keyof SoakOptions, 'storm'>;

interface NumberOption {
  readonly flag: string;
  readonly def: number;
  readonly integer: boolean;
  readonly min: number;
  readonly max: number;
  readonly help: string;
}

/** Keyed by the options type: the compiler rejects a missing or a stray option. */
const NUMBERS: Readonly<Record<NumberKey, NumberOption>> = {
  clients: { flag: 'clients', def: 10, integer: true, min: 1, max: 200, help: 'churn: concurrent clients, each running one session after another' },
  minutes: { flag: 'minutes', def: 10, integer: false, min: 0.1, max: 24 * 60, help: 'churn: how long the clients churn, in minutes (fractions allowed: 0.5)' },
  sampleSeconds: { flag: 'sample-seconds', def: 15, integer: false, min: 1, max: 3600, help: 'seconds between samples (bridge RSS, /health, target shells)' },
  steadyAfterMinutes: { flag: 'steady-after-minutes', def: 5, integer: false, min: 0, max: 24 * 60, help: 'churn: the RSS band is checked on the samples from this minute on' },
  rssBandMiB: { flag: 'rss-band-mib', def: 10, integer: false, min: 0, max: 1 << 20, help: 'churn: largest allowed max-min of the bridge tree RSS in the steady window, MiB' },
  settleSeconds: { flag: 'settle-seconds', def: 10, integer: false, min: 1, max: 600, help: 'after the clients stop: how long to wait for 0 sessions and 0 target shells' },
  stormRound: { flag: 'storm-round', def: 30_000, integer: true, min: 1, max: 1_000_000, help: 'storm: upgrades per round' },
  stormRounds: { flag: 'storm-rounds', def: 3, integer: true, min: 1, max: 100, help: 'storm: rounds' },
  stormConcurrency: { flag: 'storm-concurrency', def: 64, integer: true, min: 1, max: 100, help: 'storm: upgrades in flight at once' },
  stormPauseSeconds: { flag: 'storm-pause-seconds', def: 5, integer: false, min: 0, max: 600, help: 'storm: pause after each round before the RSS is read' },
};

const KEYS = Object.keys(NUMBERS) as NumberKey[];

export function helpText(): string {
  const rows = KEYS.map((k) => {
    const o = NUMBERS[k];
    return `  --${o.flag.padEnd(22)} ${o.help} (default ${o.def})`;
  });
  return [
    'npm run soak -- [options]',
    '',
    'Churn (default): sshd and the bridge with its defaults; clients log in, echo a marker and end',
    'their session by `exit`, by a client close or by a cut TCP connection, in turn. Passes when no',
    'session failed, everything settles to 0 sessions and 0 shells, and the RSS stays in its band.',
    'Storm (--storm): one held session fills --conn-max-per-target 1; rounds of upgrades to the same',
    'target must all be refused with the per-target limit.',
    '',
    `  --${'storm'.padEnd(22)} run the refusal storm instead of the churn`,
    ...rows,
    `  --${'help'.padEnd(22)} this text`,
  ].join('\n');
}

function parseNumber(o: NumberOption, raw: string | undefined): number {
  if (raw === undefined) return o.def;
  const v = Number(raw);
  const kind = o.integer ? 'an integer' : 'a number';
  if (raw.trim() === '' || !Number.isFinite(v) || (o.integer && !Number.isInteger(v)) || v < o.min || v > o.max) {
    throw new Error(`--${o.flag} ${raw}: expected ${kind} in ${o.min}..${o.max}`);
  }
  return v;
}

/** The options from `argv` (null when `--help` asked for the text instead); throws naming the bad flag. */
export function parseSoakOptions(argv: readonly string[]): SoakOptions | null {
  const spec: Record<string, { type: 'string' | 'boolean' }> = { storm: { type: 'boolean' }, help: { type: 'boolean' } };
  for (const k of KEYS) spec[NUMBERS[k].flag] = { type: 'string' };
  const { values } = parseArgs({ args: [...argv], options: spec, strict: true, allowPositionals: false });
  if (values.help === true) return null;
  const num = {} as Record<NumberKey, number>;
  for (const k of KEYS) {
    const raw = values[NUMBERS[k].flag];
    num[k] = parseNumber(NUMBERS[k], typeof raw === 'string' ? raw : undefined);
  }
  return Object.freeze({ storm: values.storm === true, ...num });
}
