/**
 * The resident memory of a process and its descendants (VmRSS from /proc, Linux), and a sampler
 * that keeps the peak while a test runs something against that process. A child process is
 * measured alone: the test's own buffers do not count.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** `pid` and every live descendant of it. */
function tree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone mid-scan */ }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) for (const [child, ppid] of parent) if (ppid === out[i]) out.push(child);
  return out;
}

/** VmRSS of `pid` and its descendants, in bytes (0 for a process gone, or a zombie, which has no VmRSS). */
export function treeRss(pid: number): number {
  let kib = 0;
  for (const p of tree(pid)) {
    try {
      kib += Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return kib * 1024;
}

export interface RssSampler {
  /** The largest reading so far (bytes). */
  peak(): number;
  /** How many readings were taken. */
  count(): number;
  /** Stop sampling (one last reading first); idempotent. */
  stop(): void;
}

/** Reads treeRss(pid) now and every `everyMs` until stopped. */
export function sampleRss(pid: number, everyMs: number): RssSampler {
  let peak = 0;
  let n = 0;
  const read = (): void => {
    peak = Math.max(peak, treeRss(pid));
    n++;
  };
  read();
  let timer: NodeJS.Timeout | undefined = setInterval(read, everyMs);
  return {
    peak: () => peak,
    count: () => n,
    stop: () => {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      read();
    },
  };
}
