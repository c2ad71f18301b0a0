/**
 * /proc readers for the benchmark: RSS and CPU of a process and of its whole tree (the bridge
 * primary plus its cluster workers under `--workers N`), whole-machine CPU, open file limits.
 * A process that vanishes mid-read counts as 0, so a sample never throws because a worker exited.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Direct children of `pid`: /proc/<pid>/task/<tid>/children, else a scan of /proc by ppid. */
function childrenOf(pid: number): number[] {
  try {
    const out: number[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text !== '') out.push(...text.split(/\s+/).map(Number));
    }
    return out;
  } catch {
    return scanChildren(pid);
  }
}

function scanChildren(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch { /* gone */ }
  }
  return out;
}

/** `pid` and all its live descendants. */
export function processTree(pid: number): number[] {
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const c of childrenOf(tree[i] ?? pid)) if (!tree.includes(c)) tree.push(c);
  }
  return tree;
}

/** Resident set size of `pid` in KiB (VmRSS); 0 when it is gone. */
export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

/** Sum of VmRSS over `pid` and its descendants, KiB (pages shared between them count once per process). */
export function treeRssKiB(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + rssKiB(p), 0);
}

let clkTck: number | undefined;
export function clockTicks(): number {
  if (clkTck === undefined) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clkTck = 100; }
  }
  return clkTck;
}

/** user+sys CPU seconds consumed so far by `pid` (fields 14 and 15 of /proc/<pid>/stat); 0 when gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return 0;
  }
}

/** user+sys CPU seconds of `pid` and its live descendants (workers live as long as the run). */
export function treeCpuSeconds(pid: number): number {
  return processTree(pid).reduce((sum, p) => sum + cpuSeconds(p), 0);
}

/** This process's own user+sys CPU seconds. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * This process's user+sys CPU seconds plus those of its children that have exited and been
 * reaped (fields 16 and 17 of /proc/self/stat: a `curl` run in between counts).
 */
export function selfAndChildrenCpuSeconds(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return selfCpuSeconds() + (Number(fields[13]) + Number(fields[14])) / clockTicks();
}

/** Cumulative busy and total jiffies of all CPUs (first line of /proc/stat). */
export function systemCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** Average number of busy CPUs between two systemCpu() samples. */
export function busyCores(a: { busy: number; total: number }, b: { busy: number; total: number }): number {
  return (cpus().length * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
}

export interface FileLimit { soft: number; hard: number }

/** "Max open files" of `pid` ('self' for this process); Infinity for unlimited, null when unreadable. */
export function openFileLimit(pid: number | 'self' = 'self'): FileLimit | null {
  try {
    const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    if (m?.[1] === undefined || m[2] === undefined) return null;
    const n = (s: string): number => (s === 'unlimited' ? Infinity : Number(s));
    return { soft: n(m[1]), hard: n(m[2]) };
  } catch {
    return null;
  }
}
