/**
 * Which processes hold a file open: every /proc/PID/fd link that resolves to `path`. The tests
 * run as root (CI) or as the sshd's own user, so the sshd session serving SFTP is readable; a
 * process that is gone or unreadable between the listing and the readlink is skipped.
 */
import { readdirSync, readlinkSync } from 'node:fs';

export function openersOf(path: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${name}/fd/${fd}`) === path) {
          pids.push(Number(name));
          break;
        }
      } catch { /* closed meanwhile */ }
    }
  }
  return pids;
}
