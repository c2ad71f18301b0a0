/**
 * The docs stay true to the code: every catalogue code has its section and summary row in
 * docs/errors.md and its close code in the protocol's close-code table; every option has its row
 * (flag and env var) in docs/configuration.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OPTIONS } from '../../src/config/schema.js';
import { ERRORS, type ErrorCode } from '../../src/errors.js';

const doc = (name: string): string => readFileSync(fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url)), 'utf8');
const CODES = Object.keys(ERRORS) as ErrorCode[];

void test('docs/errors.md has a section and a summary row for every error code, and no stale ones', () => {
  const text = doc('errors.md');
  const sections = new Set([...text.matchAll(/^## ([A-Z_]+)$/gm)].map((m) => m[1]));
  const missing = CODES.filter((c) => !sections.has(c));
  assert.deepEqual(missing, [], 'codes without a section');
  for (const code of CODES) {
    // A value in parentheses is in the catalogue but never sent on that path.
    const row = new RegExp(`^\\| \\[\`${code}\`\\]\\(#${code.toLowerCase()}\\) \\| \\(?${ERRORS[code].http}\\)? \\| \\(?${ERRORS[code].close}\\)? \\|`, 'm');
    assert.match(text, row, `summary row of ${code} missing or with other figures`);
  }
  for (const s of sections) assert.ok(s === undefined || CODES.includes(s as ErrorCode), `## ${String(s)} documents a code the catalogue does not have`);
});

void test('docs/configuration.md has a row for every option with its env var', () => {
  const text = doc('configuration.md');
  for (const o of OPTIONS) {
    assert.match(text, new RegExp(`^\\| \`--${o.name}\` \\| \`${o.env}\` \\|`, 'm'), `row for --${o.name} / ${o.env} missing`);
  }
});

void test('docs/protocol.md lists every close code the catalogue sends', () => {
  const text = doc('protocol.md');
  const closes = new Set(CODES.map((c) => ERRORS[c].close));
  for (const close of closes) assert.match(text, new RegExp(`^\\| ${close} \\|`, 'm'), `close ${close} missing from the close-code table`);
});
