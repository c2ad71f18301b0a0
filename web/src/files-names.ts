/**
 * Paths and names for the Files panel (pure): joining a folder and a name, the parent folder, a
 * hidden name, and "keep both" for an upload whose name exists (`name (1).ext`).
 */

/** `dir` + `/` + `name` (no double slash at the root). */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/** The folder above `path` (`/` stays `/`; a relative path without a slash goes to `..`). */
export function parentPath(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
  if (trimmed === '/') return '/';
  const at = trimmed.lastIndexOf('/');
  if (at < 0) return trimmed === '.' || trimmed === '' ? '..' : '.';
  return at === 0 ? '/' : trimmed.slice(0, at);
}

/** Dot files (not `.` and `..`, which the listing never has). */
export const isHidden = (name: string): boolean => name.startsWith('.');

/** A name for the folder list: not empty, no slash, not `.` or `..`, no NUL. */
export function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/**
 * A name like `name` that is not in `taken`: `report (1).pdf`, `report (2).pdf`, …; the extension
 * is kept (`archive (1).tar.gz` keeps `.tar.gz` only for that known double extension), a dot file
 * or a name without a dot gets the number at the end (`.bashrc (1)`, `README (1)`). A name
 * that already ends in ` (n)` counts on from n.
 */
export function keepBothName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  const { stem, ext } = splitExt(name);
  const numbered = /^(.*) \((\d+)\)$/.exec(stem);
  const base = numbered === null ? stem : numbered[1] ?? stem;
  let n = numbered === null ? 1 : Number(numbered[2]) + 1;
  for (;;) {
    const candidate = `${base} (${n})${ext}`;
    if (!taken.has(candidate)) return candidate;
    n++;
  }
}

const DOUBLE = /\.tar\.(gz|bz2|xz|zst)$/i;

function splitExt(name: string): { stem: string; ext: string } {
  const double = DOUBLE.exec(name);
  if (double !== null && double.index > 0) return { stem: name.slice(0, double.index), ext: name.slice(double.index) };
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}
