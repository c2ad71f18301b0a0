/**
 * The ustar (POSIX.1-1988) header of one tar entry, with a PAX extended header (POSIX.1-2001,
 * typeflag `x`) before it when a field does not fit the ustar form: a name or link target over
 * 100 bytes or not plain ASCII (PAX `path` and `linkpath` are UTF-8 by definition, so any tar
 * reads them the same whatever its locale), a size over 8 GiB - 1 (PAX `size`). The ustar fields
 * then hold an ASCII stand-in. The folder download (docs/protocol.md#files) writes these while it
 * streams; no tar dependency for ~100 lines. Pure.
 *
 * An archive: for each entry `tarHeader(...)`, then (a regular file) its `size` bytes and
 * `tarPadding(size)`; at the end `tarEnd()`, two zero blocks.
 */

export const BLOCK = 512;

export type TarType = 'file' | 'directory' | 'symlink';

export interface TarEntry {
  /** The path in the archive, `/`-separated; a directory's may end in `/` (added when missing). */
  readonly name: string;
  readonly type: TarType;
  /** Permission bits (only the low 12 bits are kept). */
  readonly mode: number;
  /** Bytes of content; 0 for a directory or a link. */
  readonly size: number;
  /** Modification time, seconds since the epoch. */
  readonly mtime: number;
  /** A symlink's target. */
  readonly linkname?: string;
}

const TYPEFLAG: Readonly<Record<TarType, string>> = { file: '0', directory: '5', symlink: '2' };
/** The largest size the 11 octal digits of the ustar field hold. */
const MAX_OCTAL_SIZE = 0o77777777777;

/** Whether `text` fits a ustar field of `width` bytes as it is: ASCII, no NUL, short enough. */
function fits(text: string, width: number): boolean {
  return text.length <= width && /^[\x20-\x7e]*$/.test(text);
}

/** An ASCII stand-in for a field that does not fit (a PAX record holds the real value). */
function standIn(text: string, width: number): string {
  return text.replace(/[^\x20-\x7e]/g, '_').slice(-width);
}

function octal(value: number, width: number): string {
  return `${Math.max(0, Math.floor(value)).toString(8).padStart(width - 1, '0')}\0`;
}

/** One PAX record, `LEN key=value\n`, where LEN counts the whole record, its own digits included. */
export function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  const digits = String(bytes).length;
  let len = bytes + digits;
  if (String(len).length > digits) len = bytes + String(len).length;
  return Buffer.from(`${len}${body}`, 'utf8');
}

/** One 512-byte ustar header block; `name` and `linkname` must already fit. */
function block(name: string, typeflag: string, mode: number, size: number, mtime: number, linkname: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'latin1');
  b.write(octal(mode & 0o7777, 8), 100, 'latin1');
  b.write(octal(0, 8), 108, 'latin1'); // uid
  b.write(octal(0, 8), 116, 'latin1'); // gid
  b.write(octal(size, 12), 124, 'latin1');
  b.write(octal(mtime, 12), 136, 'latin1');
  b.write('        ', 148, 'latin1'); // the checksum counts its own field as spaces
  b.write(typeflag, 156, 'latin1');
  b.write(linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 'latin1');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

/** The zero bytes that bring `size` bytes of content to a whole number of blocks. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

/** The header block(s) of one entry: a PAX header and its records first when needed. */
export function tarHeader(entry: TarEntry): Buffer {
  const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const linkname = entry.linkname ?? '';
  const size = entry.type === 'file' ? entry.size : 0;
  const records: Buffer[] = [];
  if (!fits(name, 100)) records.push(paxRecord('path', name));
  if (!fits(linkname, 100)) records.push(paxRecord('linkpath', linkname));
  if (size > MAX_OCTAL_SIZE) records.push(paxRecord('size', String(size)));
  const mtime = Math.max(0, Math.floor(entry.mtime));
  const main = block(fits(name, 100) ? name : standIn(name, 100), TYPEFLAG[entry.type], entry.mode, size > MAX_OCTAL_SIZE ? 0 : size, mtime, fits(linkname, 100) ? linkname : standIn(linkname, 100));
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  const paxName = standIn(`PaxHeaders/${name.replace(/\/+$/, '').split('/').at(-1) ?? ''}`, 100);
  return Buffer.concat([block(paxName, 'x', 0o644, pax.length, mtime, ''), pax, tarPadding(pax.length), main]);
}
