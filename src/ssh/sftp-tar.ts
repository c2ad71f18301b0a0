/**
 * A directory as a tar stream, built while it streams (docs/protocol.md#files): the folder
 * download. Depth-first over SFTP, one directory batch at a time (opendir, readdir on the handle:
 * OpenSSH sends about 100 names per batch), so memory stays bounded whatever the folder holds:
 * one batch per open level, and a file's content passes one chunk at a time as the consumer
 * pulls it (the caller's pipeline gives backpressure).
 *
 * What goes in: directories (type 5), regular files (a ustar header, the content, padding),
 * symlinks stored as symlinks with their target (never followed, so no loops); anything else
 * (sockets, FIFOs, devices) is skipped. The entries are named `TOP/relative/path`.
 *
 * Bounds: at most TAR_MAX_ENTRIES entries and TAR_MAX_DEPTH levels below the folder; past
 * either, FILES_TOO_MANY (the caller cuts the response, so the archive is visibly short).
 *
 * A file that changes size while it is read: the header already went out with the size the
 * listing gave, so the content is cut (it grew) or padded with zeros (it shrank) to that size,
 * keeping the archive readable, and `changed` is set: the transfer's result is FILES_INCOMPLETE.
 * Growth is seen by reading one byte past the size.
 */
import type { Readable } from 'node:stream';
import { BridgeError } from '../errors.js';
import { joinPath } from '../protocol/file-path.js';
import { tarEnd, tarHeader, tarPadding } from '../protocol/ustar.js';
import type { FileEntry } from './sftp.js';

/** At most this many entries (files, directories, links) below the folder. */
export const TAR_MAX_ENTRIES = 100_000;
/** At most this many levels of directories below the folder. */
export const TAR_MAX_DEPTH = 64;

/** What the walk needs of the SFTP channel. */
export interface TarSource {
  /** The entries of a directory, a batch at a time (links not followed, `.` and `..` left out). */
  readonly entries: (path: string) => AsyncIterable<FileEntry[]>;
  readonly readlink: (path: string) => Promise<string>;
  /** The bytes of a file from offset 0 through `last` (inclusive). */
  readonly read: (path: string, last: number) => Readable;
}

export interface TarState {
  /** Some file changed size while it was read (see the header). */
  changed: boolean;
  /** Entries written so far. */
  entries: number;
}

const ZEROS = Buffer.alloc(64 * 1024);

/** The content of one file, exactly `size` bytes (cut or padded), then its padding. */
async function* content(src: TarSource, path: string, size: number, state: TarState): AsyncGenerator<Buffer> {
  let left = size;
  for await (const chunk of src.read(path, size) as AsyncIterable<Buffer>) {
    if (chunk.length > left) {
      state.changed = true; // it grew: one byte past the size came
      if (left > 0) yield chunk.subarray(0, left);
      left = 0;
      break;
    }
    left -= chunk.length;
    yield chunk;
  }
  if (left > 0) state.changed = true; // it shrank
  while (left > 0) {
    const n = Math.min(left, ZEROS.length);
    yield ZEROS.subarray(0, n);
    left -= n;
  }
  yield tarPadding(size);
}

/** Every entry below `dir` (named `name/...`), depth-first. */
async function* walk(src: TarSource, dir: string, name: string, depth: number, state: TarState): AsyncGenerator<Buffer> {
  for await (const batch of src.entries(dir)) {
    for (const e of batch) {
      if (e.type === 'other') continue;
      if (++state.entries > TAR_MAX_ENTRIES) throw new BridgeError('FILES_TOO_MANY', `over ${TAR_MAX_ENTRIES} entries`);
      const path = joinPath(dir, e.name);
      const inTar = `${name}/${e.name}`;
      const mtime = Math.floor(e.mtime / 1000);
      if (e.type === 'directory') {
        if (depth + 1 > TAR_MAX_DEPTH) throw new BridgeError('FILES_TOO_MANY', `over ${TAR_MAX_DEPTH} levels`);
        yield tarHeader({ name: inTar, type: 'directory', mode: e.mode, size: 0, mtime });
        yield* walk(src, path, inTar, depth + 1, state);
      } else if (e.type === 'symlink') {
        yield tarHeader({ name: inTar, type: 'symlink', mode: e.mode, size: 0, mtime, linkname: await src.readlink(path) });
      } else {
        yield tarHeader({ name: inTar, type: 'file', mode: e.mode, size: e.size, mtime });
        yield* content(src, path, e.size, state);
      }
    }
  }
}

/** The whole archive of the folder `dir` (itself `top` in the archive, with `top`'s mode and mtime). */
export async function* tarStream(src: TarSource, dir: string, top: FileEntry & { readonly name: string }, state: TarState): AsyncGenerator<Buffer> {
  yield tarHeader({ name: top.name, type: 'directory', mode: top.mode, size: 0, mtime: Math.floor(top.mtime / 1000) });
  yield* walk(src, dir, top.name, 0, state);
  yield tarEnd();
}
