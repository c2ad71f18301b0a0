import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitSamples, tailReport, type Trace } from '../../bench/tail-analysis.js';

const trace = (input: number[], output: number[], sent: number[], gc: Trace['gc'] = []): Trace => ({ input, output, sent, gc });

void test('a round trip splits into in, ssh, proc and out that add up to it', () => {
  const { splits, unmatched } = splitSamples([{ sent: 10, back: 11 }], trace([10.1], [10.7], [10.75]), []);
  assert.equal(unmatched, 0);
  const [s] = splits;
  assert.ok(s);
  assert.equal(s.rtt, 1);
  assert.deepEqual(Object.fromEntries(Object.entries(s.hops).map(([k, v]) => [k, Number(v.toFixed(6))])), { in: 0.1, ssh: 0.6, proc: 0.05, out: 0.25 });
});

void test('each sample takes the first events after its send, and a GC pause counts only where it overlaps', () => {
  const t = trace([9, 20.1, 30.2], [20.5, 30.4], [20.6, 30.5], [{ start: 30.3, ms: 5 }, { start: 1, ms: 2 }]);
  const { splits } = splitSamples([{ sent: 20, back: 21 }, { sent: 30, back: 31 }], t, [{ start: 20.9, ms: 0.05 }]);
  assert.equal(splits.length, 2);
  assert.equal(Number(splits[0]?.hops.in.toFixed(6)), 0.1);
  assert.equal(splits[0]?.bridgeGc, 0);
  assert.equal(Number(splits[0]?.clientGc.toFixed(6)), 0.05);
  assert.equal(Number(splits[1]?.bridgeGc.toFixed(6)), 0.7, 'from 30.3 to the arrival at 31');
});

void test('out is negative when the client ran before the bridge returned from its write', () => {
  const { splits } = splitSamples([{ sent: 0, back: 1 }], trace([0.1], [0.8], [1.2]), []);
  assert.equal(Number(splits[0]?.hops.out.toFixed(6)), -0.2);
});

void test('a keystroke the bridge did not see, or whose echo came after the arrival, is unmatched', () => {
  const { splits, unmatched } = splitSamples([{ sent: 5, back: 6 }, { sent: 10, back: 11 }], trace([7], [7.5], [7.6]), []);
  assert.equal(splits.length, 0);
  assert.equal(unmatched, 2);
  assert.equal(tailReport(splits), null);
});

void test('the slowest 1% are named by their largest hop', () => {
  const samples = Array.from({ length: 200 }, (_, i) => ({ sent: i * 10, back: i * 10 + (i === 7 ? 5 : i === 9 ? 4 : 1) }));
  const input = samples.map((s) => s.sent + 0.1);
  // keystroke 7 loses its time between sshd and the bridge, keystroke 9 on the way out
  const output = samples.map((s, i) => s.sent + (i === 7 ? 4.5 : 0.5));
  const sent = output.map((o) => o + 0.05);
  const r = tailReport(splitSamples(samples, trace(input, output, sent), []).splits);
  assert.ok(r);
  assert.equal(r.slow.n, 2);
  assert.deepEqual(r.slow.largestHop, { in: 0, ssh: 1, proc: 0, out: 1 });
  assert.equal(r.rtt.max, 5);
  assert.equal(r.rtt.p50, 1);
});
