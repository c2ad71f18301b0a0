/**
 * How the Files panel writes numbers (pure): sizes, transfer speed, time left, `st_mode` bits and
 * modification times.
 */

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `512 B`, `1.5 KiB`, `12 MiB` (one decimal below 10, none above). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value < 10 ? value.toFixed(1) : String(Math.round(value));
  return `${shown} ${UNITS[unit] ?? ''}`;
}

/** `1.2 MiB/s`; '' while nothing is known yet. */
export function formatSpeed(bytesPerSecond: number | null): string {
  return bytesPerSecond === null || !Number.isFinite(bytesPerSecond) || bytesPerSecond <= 0 ? '' : `${formatSize(bytesPerSecond)}/s`;
}

/** Time left: `45 s`, `3 min 5 s`, `2 h 10 min`; '' when unknown. */
export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.ceil(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const TYPE_CHAR: Readonly<Record<string, string>> = { directory: 'd', symlink: 'l', file: '-' };

/** `drwxr-xr-x` from the entry's type and its `st_mode` bits (setuid, setgid, sticky included). */
export function formatMode(mode: number, type: string): string {
  const rwx = (shift: number, special: boolean, specialChar: string): string => {
    const bits = (mode >> shift) & 7;
    const x = (bits & 1) !== 0;
    const last = special ? (x ? specialChar : specialChar.toUpperCase()) : (x ? 'x' : '-');
    return `${(bits & 4) !== 0 ? 'r' : '-'}${(bits & 2) !== 0 ? 'w' : '-'}${last}`;
  };
  return `${TYPE_CHAR[type] ?? '?'}${rwx(6, (mode & 0o4000) !== 0, 's')}${rwx(3, (mode & 0o2000) !== 0, 's')}${rwx(0, (mode & 0o1000) !== 0, 't')}`;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `2026-12-07 06:41` in the browser's time zone. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}
