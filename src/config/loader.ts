/**
 * Builds the Config from defaults, a JSON file, `UWSB_*` variables and flags (in increasing
 * precedence). Pure apart from reading the config file: the caller passes argv and env and
 * decides what to do with a ConfigError (the CLI prints it and exits with status 2).
 */
import { readFileSync } from 'node:fs';
import { CONFIG_OPTION, OPTIONS } from './schema.js';
import { crossCheck } from './cross-check.js';
import type { Field, OptionSpec } from './schema.js';
import type { Config } from './types.js';

export type LoadResult = { kind: 'config'; config: Config } | { kind: 'help'; text: string } | { kind: 'version' };

/**
 * Every configuration mistake, so the CLI can tell "bad setup" (exit 2, message as is) from a
 * crash. `option`, `value` and `allowed` are separate so tests and tools need not parse text.
 */
export class ConfigError extends Error {
  readonly option: string;
  readonly value: string;
  readonly allowed: string;

  constructor(option: string, value: string, allowed: string, message?: string) {
    super(message ?? invalidMessage(option, value, allowed, ''));
    this.name = 'ConfigError';
    this.option = option;
    this.value = value;
    this.allowed = allowed;
  }
}

const ALL: readonly OptionSpec[] = [CONFIG_OPTION, ...OPTIONS];
const BY_NAME = new Map(ALL.map((o) => [o.name, o]));
const BY_ENV = new Map(ALL.map((o) => [o.env, o]));
const BY_KEY = new Map(OPTIONS.map((o) => [o.name, o]));
const FIELD_OF = new Map(OPTIONS.map((o) => [o as OptionSpec, o.field]));
const HELP_FLAGS = new Set(['-h', '--h', '-help', '--help']);
const VERSION_FLAGS = new Set(['-version', '--version']);

function describe(option: string): string {
  const spec = BY_NAME.get(option);
  return spec === undefined ? `option ${option}` : `option ${option} (--${option} / ${spec.env})`;
}

function invalidMessage(option: string, value: string, allowed: string, where: string): string {
  return `invalid value ${JSON.stringify(value)} for ${describe(option)}${where}: expected ${allowed}`;
}

/** Typos are the common mistake with long option names, so point at the nearest real one. */
function suggest(word: string, candidates: Iterable<string>, show: (c: string) => string): string {
  let best = '';
  let bestDistance = 4;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? 1 : editDistance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best === '' ? '' : ` (did you mean ${show(best)}?)`;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function display(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (Array.isArray(raw)) return raw.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join(',');
  return JSON.stringify(raw) ?? String(raw);
}

function parseValue(spec: OptionSpec, raw: unknown, where: string): unknown {
  const result = spec.schema.safeParse(raw);
  if (result.success) return result.data;
  const detail = result.error.issues.find((i) => i.code === 'custom')?.message;
  const allowed = detail === undefined ? spec.allowed : `${spec.allowed}; ${detail}`;
  const value = spec.redact === undefined ? display(raw) : spec.redact(display(raw));
  throw new ConfigError(spec.name, value, allowed, invalidMessage(spec.name, value, allowed, where));
}

type Raw = Map<OptionSpec, unknown>;

/** Go `flag` syntax: one or two dashes, value after `=` or as the next argument. */
function parseArgs(argv: readonly string[]): Raw {
  const raw: Raw = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--' || !arg.startsWith('-') || arg === '-') {
      const extra = arg === '--' ? argv[i + 1] : arg;
      if (extra === undefined) break;
      const prev = BY_NAME.get((argv[i - 1] ?? '').replace(/^--?/, ''));
      const hint = prev?.isBool === true ? `; boolean flags take no separate value, write --${prev.name}=${extra}` : '';
      throw new ConfigError('positional', extra, 'flags only', `unexpected positional argument ${JSON.stringify(extra)}: expected flags only${hint}`);
    }
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const spec = BY_NAME.get(name);
    if (spec === undefined) {
      const allowed = 'one of the flags listed by --help';
      throw new ConfigError(name, arg, allowed, `unknown flag ${JSON.stringify(arg)}: expected ${allowed}${suggest(name, BY_NAME.keys(), (c) => `--${c}`)}`);
    }
    const prior = spec.repeatable === true ? raw.get(spec) : undefined;
    const put = (value: string): void => void raw.set(spec, typeof prior === 'string' ? `${prior}\n${value}` : value);
    if (eq !== -1) {
      put(body.slice(eq + 1));
    } else if (spec.isBool) {
      raw.set(spec, 'true');
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-')) {
        const hint = next === undefined ? '' : ` (the next argument starts with "-"; write --${name}=${next} if it is the value)`;
        throw new ConfigError(name, '', spec.allowed, `missing value for ${describe(name)}: expected ${spec.allowed}${hint}`);
      }
      put(next);
      i++;
    }
  }
  return raw;
}

/** Any unknown `UWSB_*` name is an error: a misspelt variable would otherwise be silently ignored. */
function parseEnv(env: Readonly<Record<string, string | undefined>>): Raw {
  const raw: Raw = new Map();
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('UWSB_')) continue;
    const spec = BY_ENV.get(key);
    if (spec === undefined) {
      const allowed = 'one of the UWSB_* variables listed by --help';
      const text = `unknown environment variable ${key}=${JSON.stringify(value ?? '')}: expected ${allowed}${suggest(key, BY_ENV.keys(), (c) => c)}`;
      throw new ConfigError(key, value ?? '', allowed, text);
    }
    if (value !== undefined && value !== '') raw.set(spec, value); // empty means unset, as in most shells' env files
  }
  return raw;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseFile(path: string, readFile: (path: string) => string): Raw {
  const fail = (allowed: string): ConfigError => new ConfigError(CONFIG_OPTION.name, path, allowed);
  let data: unknown;
  try {
    data = JSON.parse(readFile(path).replace(/^\uFEFF/, ''));
  } catch (err) {
    throw fail(`${err instanceof SyntaxError ? 'a JSON object' : 'a readable JSON file'} (${reason(err)})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw fail('a JSON object whose keys are option names');
  const raw: Raw = new Map();
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const spec = BY_KEY.get(key);
    if (spec === undefined) {
      const allowed = 'one of the option names listed by --help';
      const where = `in config file ${JSON.stringify(path)}`;
      const text = `unknown key ${JSON.stringify(key)} (value ${JSON.stringify(display(value))}) ${where}: expected ${allowed}${suggest(key, BY_KEY.keys(), (c) => JSON.stringify(c))}`;
      throw new ConfigError(key, display(value), allowed, text);
    }
    raw.set(spec, value);
  }
  return raw;
}

function validate(raw: Raw, where: string): Map<Field, unknown> {
  const out = new Map<Field, unknown>();
  for (const [spec, value] of raw) {
    const field = FIELD_OF.get(spec);
    if (field !== undefined) out.set(field, parseValue(spec, value, where));
  }
  return out;
}

function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) freeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * Every supplied value is validated, even one a higher layer overrides, so a broken env file
 * or config file is caught the day it is written rather than the day the flag is dropped.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): LoadResult {
  // Help, then the version, win over every other problem, so a broken setup can still print them.
  const before = argv.indexOf('--') === -1 ? argv : argv.slice(0, argv.indexOf('--'));
  if (before.some((arg) => HELP_FLAGS.has(arg))) return { kind: 'help', text: helpText() };
  if (before.some((arg) => VERSION_FLAGS.has(arg))) return { kind: 'version' };
  const flagRaw = parseArgs(argv);
  const envRaw = parseEnv(env);
  const pathRaw = flagRaw.get(CONFIG_OPTION) ?? envRaw.get(CONFIG_OPTION);
  const path = pathRaw === undefined ? undefined : (parseValue(CONFIG_OPTION, pathRaw, '') as string);
  const layers = [validate(flagRaw, ''), validate(envRaw, '')];
  if (path !== undefined) layers.push(validate(parseFile(path, readFile), ` in config file ${JSON.stringify(path)}`));

  const out: Partial<Record<Field, unknown>> = {};
  for (const o of OPTIONS) {
    const layer = layers.find((l) => l.has(o.field));
    out[o.field] = freeze(layer === undefined ? parseValue(o, o.default, ' (built-in default)') : layer.get(o.field));
  }
  const config = Object.freeze(out) as Config;
  const problem = crossCheck(config);
  if (problem !== null) throw new ConfigError(problem.option, problem.value, problem.allowed);
  return { kind: 'config', config };
}

function defaultText(o: OptionSpec): string {
  if (o.default === null) return 'none';
  return o.default === '' ? 'empty' : o.default;
}

/** Generated from the option table, so it cannot drift from what the loader accepts. */
export function helpText(): string {
  const left = (o: OptionSpec): string => (o.isBool ? `  --${o.name}[=bool]` : `  --${o.name} <${o.unit}>`);
  const width = Math.max(...ALL.map((o) => left(o).length)) + 2;
  const envWidth = Math.max(...ALL.map((o) => o.env.length)) + 2;
  const lines = ALL.map(
    (o) => `${left(o).padEnd(width)}${o.env.padEnd(envWidth)}default: ${defaultText(o)}\n      ${o.description}`,
  );
  return [
    'Usage: webssh-bridge [flags]',
    '       webssh-bridge new-token [--admin] [--files-read] [NAME]',
    '                                         print a new gateway token and its auth-tokens line',
    '       webssh-bridge hash-token [--admin] [--files-read] [NAME]',
    '                                         print the auth-tokens line of a token read from stdin',
    '       webssh-bridge new-secret [ID]     print a new key line for the cluster-secret-file keyring',
    '       webssh-bridge --version           print the version',
    '',
    'Every option is a flag (--name value, --name=value, -name value, -name=value), an environment',
    'variable, or a key of the JSON file given by --config. Precedence: flag > env > file > default.',
    'Durations use Go syntax (500ms, 30s, 1m30s, 2h). Sizes are bytes or take a KiB/MiB suffix.',
    'Lists are comma-separated (JSON arrays in the file). Invalid values stop the start (exit 2).',
    '',
    ...lines,
    '',
  ].join('\n');
}
