/**
 * Loaded into the bridge with `node --import` by bench/tail.ts: records when each keystroke and
 * each output chunk passes the pump (src/session/trace.ts) and every GC pause, on the monotonic
 * clock all processes of the machine share (`process.hrtime`), so bench/tail.ts can line them up
 * with its own send and receive times. Bounded: at most MAX_EVENTS events are kept (the rest are
 * counted, not stored). Written at exit to `$BENCH_TAIL_TRACE_FILE.<pid>` (a worker writes its own).
 */
import diagnostics from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';

import { KIND } from './tail-analysis.js';

const MAX_EVENTS = 500_000;

const file = process.env['BENCH_TAIL_TRACE_FILE'];
if (file !== undefined && file !== '') {
  // kind, time (ms on the monotonic clock), bytes (or the GC pause in ms)
  const events = new Float64Array(MAX_EVENTS * 3);
  let n = 0;
  let dropped = 0;
  const now = (): number => Number(process.hrtime.bigint()) / 1e6;
  const add = (kind: number, t: number, v: number): void => {
    if (n >= MAX_EVENTS) { dropped++; return; }
    events[n * 3] = kind;
    events[n * 3 + 1] = t;
    events[n * 3 + 2] = v;
    n++;
  };
  diagnostics.subscribe('webssh-bridge:input', (bytes) => add(KIND.input, now(), Number(bytes)));
  diagnostics.subscribe('webssh-bridge:output', (bytes) => add(KIND.output, now(), Number(bytes)));
  diagnostics.subscribe('webssh-bridge:sent', (bytes) => add(KIND.sent, now(), Number(bytes)));
  // GC entries are timed by performance.now(), which drifts from hrtime by some µs per second:
  // the offset is taken afresh when the entries arrive (right after the pause).
  new PerformanceObserver((list) => {
    const offset = now() - performance.now();
    for (const e of list.getEntries()) add(KIND.gc, e.startTime + offset, e.duration);
  }).observe({ entryTypes: ['gc'] });
  process.once('exit', () => {
    writeFileSync(`${file}.${process.pid}`, JSON.stringify({ pid: process.pid, dropped, events: Array.from(events.subarray(0, n * 3)) }));
  });
}
