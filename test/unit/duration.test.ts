import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDuration } from '../../src/config/duration.js';

void describe('parseDuration', () => {
  const valid: ReadonlyArray<readonly [string, number]> = [
    ['0', 0],
    ['0s', 0],
    ['0ms', 0],
    ['500ms', 500],
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1.5s', 1_500],
    ['1h2m3s4ms', 3_723_004],
    ['1500us', 1.5],
    ['1500\u00b5s', 1.5],
    ['1500\u03bcs', 1.5],
    ['2000000ns', 2],
    ['1ns', 0.000001],
    ['.5s', 500],
    ['1.s', 1_000],
    ['1.25m', 75_000],
    ['0.1s', 100],
    ['30s500ms', 30_500],
    ['2562047h', 2_562_047 * 3_600_000],
  ];
  for (const [text, ms] of valid) {
    void it(`parses ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  const syntaxErrors = ['', '-1s', '-0s', '+1s', 's', '1', '10', 'abc', '1d', '1S', '1 s', ' 1s', '1s ', '1.5.5s', '.s', '1e3s', '1s2', '1,5s', 'ms'];
  for (const text of syntaxErrors) {
    void it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseDuration(text), SyntaxError);
    });
  }

  void it('rejects values beyond Go int64 nanoseconds', () => {
    assert.throws(() => parseDuration('2562048h'), RangeError);
    assert.throws(() => parseDuration('99999999999999999999s'), RangeError);
  });

  void it('names the bad unit in the message', () => {
    assert.throws(() => parseDuration('5d'), /unknown unit "d"/);
    assert.throws(() => parseDuration('5'), /missing unit/);
    assert.throws(() => parseDuration('-5s'), /negative/);
  });
});
