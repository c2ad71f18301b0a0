/**
 * The processes that live markers name (./live-marker.ts): this one, as a writer, and any one, as
 * the listing asks whether it still runs. A process exists when signal 0 reaches it (EPERM: it
 * exists, under another user); its start is read from Linux's /proc (the boot id and the start
 * time in clock ticks), and is null elsewhere.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { procStartTicks, type WriterId, type WriterState } from './live-marker.js';

const BOOT_ID = '/proc/sys/kernel/random/boot_id';

function bootId(): string | null {
  try {
    const id = readFileSync(BOOT_ID, 'utf8').trim();
    return id === '' ? null : id;
  } catch {
    return null;
  }
}

/** This machine's boot, read once: the same for every process of the gateway. */
const boot = bootId();

function startOf(stat: string): string | null {
  const ticks = procStartTicks(stat);
  return boot === null || ticks === null ? null : `${boot}/${ticks}`;
}

/** This process as the writer of its recordings' markers. */
export function thisWriter(): WriterId {
  let start: string | null = null;
  try {
    start = startOf(readFileSync('/proc/self/stat', 'utf8'));
  } catch {
    // not Linux: the process id alone
  }
  return { pid: process.pid, start };
}

function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether process `pid` (a positive id: ./live-marker.ts parses no other) runs now, and its start. */
export async function writerState(pid: number): Promise<WriterState> {
  if (!exists(pid)) return { running: false };
  try {
    return { running: true, start: startOf(await readFile(`/proc/${pid}/stat`, 'utf8')) };
  } catch {
    // no /proc (not Linux), or gone since
    return exists(pid) ? { running: true, start: null } : { running: false };
  }
}
