/**
 * The file operations of one SFTP channel on a session's link (docs/protocol.md#files): list,
 * stat, mkdir, rename, delete, and the two streams. Every failure leaves through mapSftpError
 * (./sftp-errors.ts), or, for an upload that failed plainly on a full disk, diskFull
 * (./sftp-space.ts), so it carries a catalogue code.
 *
 * Memory per transfer, whatever the file size (the figure docs/protocol.md states), with the
 * pipelined streams of ./sftp-pipe.ts (`depth` requests of `chunk` bytes in flight):
 * - download: the SftpReader keeps at most READ_PIPE.depth reads (4 of 128 KiB) outstanding and
 *   its readable buffer holds about one chunk more, the meter one more; the pipeline into the
 *   HTTP response stops reading while the response's socket is full, so a slow browser slows the
 *   SFTP reads. About (4 + 2) x 128 KiB = 768 KiB.
 * - upload: the request body is read only as fast as the SftpWriter's writes are acknowledged
 *   (at most WRITE_PIPE.depth, 8 of 64 KiB, in flight, one chunk buffered), and the meter and the
 *   request hold a chunk more (the request's readable highWaterMark is Node's 16 KiB). About
 *   (8 + 2) x 64 KiB = 640 KiB.
 * Plus the kernel's socket buffers.
 *
 * Nothing half-written: an upload goes to a temporary name in the target directory
 * (`.uwsb-<random>.part`) and is renamed over the target only when the body is complete; any
 * failure (a body too large or cut short, the client gone, an SFTP error, the abort signal)
 * removes the temporary file. The caller learns each temporary name while it exists
 * (`onTemp`), so the session can remove it when it ends mid-transfer.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Attributes, SFTPWrapper, Stats } from 'ssh2';
import { BridgeError } from '../errors.js';
import { joinPath } from '../protocol/file-path.js';
import { mapSftpError } from './sftp-errors.js';
import { SftpReader, SftpWriter, WRITE_PIPE } from './sftp-pipe.js';
import { declaredLength, diskFull } from './sftp-space.js';
import { tarStream, type TarSource, type TarState } from './sftp-tar.js';

/** The buffer of a transfer's meter and of a folder's tar stream, and an upload's write size. */
const CHUNK = WRITE_PIPE.chunk;

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileEntry {
  readonly name: string;
  readonly type: EntryType;
  readonly size: number;
  /** Modification time, ms since the epoch. */
  readonly mtime: number;
  /** Permission bits and file type, as stat's st_mode. */
  readonly mode: number;
}

/** What went through a transfer: the bytes and their SHA-256 (hex). */
export interface Passed {
  bytes: number;
  readonly hash: ReturnType<typeof createHash>;
}

export interface UploadOptions {
  readonly overwrite: boolean;
  readonly limit: number;
  readonly signal: AbortSignal;
  /** The temporary file exists (`path`) or is gone (null). */
  readonly onTemp: (path: string | null) => void;
}

function entryType(mode: number): EntryType {
  const kind = mode & 0o170000;
  return kind === 0o100000 ? 'file' : kind === 0o040000 ? 'directory' : kind === 0o120000 ? 'symlink' : 'other';
}

function entry(name: string, a: Attributes): FileEntry {
  return { name, type: entryType(a.mode), size: a.size, mtime: a.mtime * 1000, mode: a.mode };
}

/** Counts and hashes what passes; refuses more than `limit` bytes with FILES_TOO_LARGE. */
function meter(passed: Passed, limit: number): Transform {
  return new Transform({
    highWaterMark: CHUNK,
    transform(chunk: Buffer, _enc, done) {
      passed.bytes += chunk.length;
      if (passed.bytes > limit) {
        done(new BridgeError('FILES_TOO_LARGE', `over ${limit} bytes`));
        return;
      }
      passed.hash.update(chunk);
      done(null, chunk);
    },
  });
}

export function newPassed(): Passed {
  return { bytes: 0, hash: createHash('sha256') };
}

export class SftpFiles {
  readonly #sftp: SFTPWrapper;

  constructor(sftp: SFTPWrapper) {
    this.#sftp = sftp;
  }

  #call<T>(what: string, fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return new Promise((resolve, reject) => {
      fn((err, value) => (err === undefined || err === null ? resolve(value as T) : reject(mapSftpError(err, what))));
    });
  }

  /** The absolute form of `path` (`.` is the login directory). */
  realpath(path: string): Promise<string> {
    return this.#call('realpath', (cb) => this.#sftp.realpath(path, cb));
  }

  async stat(path: string): Promise<FileEntry> {
    const st = await this.#call<Stats>('stat', (cb) => this.#sftp.stat(path, cb));
    return entry(path.slice(path.lastIndexOf('/') + 1), st);
  }

  /** Whether something (a dangling link included) has this name. */
  async exists(path: string): Promise<boolean> {
    try {
      await this.#call<Stats>('lstat', (cb) => this.#sftp.lstat(path, cb));
      return true;
    } catch (err) {
      if ((err as BridgeError).code === 'FILES_NOT_FOUND') return false;
      throw err;
    }
  }

  /** The entries of a directory (not `.` and `..`), sorted by name (code point order). */
  async list(path: string): Promise<FileEntry[]> {
    const list = await this.#call<Array<{ filename: string; attrs: Attributes }>>('readdir', (cb) => this.#sftp.readdir(path, cb));
    return list.filter((e) => e.filename !== '.' && e.filename !== '..').map((e) => entry(e.filename, e.attrs)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async mkdir(path: string): Promise<void> {
    if (await this.exists(path)) throw new BridgeError('FILES_EXISTS', path.slice(-200));
    await this.#call('mkdir', (cb) => this.#sftp.mkdir(path, cb));
  }

  /** Rename; an existing `to` is refused (FILES_EXISTS) unless `overwrite` (POSIX rename, OpenSSH's extension). */
  async rename(from: string, to: string, overwrite: boolean): Promise<void> {
    if (!overwrite && await this.exists(to)) throw new BridgeError('FILES_EXISTS', to.slice(-200));
    if (overwrite) await this.#call('rename', (cb) => this.#sftp.ext_openssh_rename(from, to, cb));
    else await this.#call('rename', (cb) => this.#sftp.rename(from, to, cb));
  }

  /** Delete a file, a link, or an empty directory. */
  async remove(path: string): Promise<void> {
    const st = await this.#call<Stats>('lstat', (cb) => this.#sftp.lstat(path, cb));
    if (st.isDirectory()) await this.#call('rmdir', (cb) => this.#sftp.rmdir(path, cb));
    else await this.#call('unlink', (cb) => this.#sftp.unlink(path, cb));
  }

  /** Remove a temporary file; never throws (it may be gone already). */
  discard(path: string): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.#sftp.unlink(path, () => resolve());
      } catch {
        resolve(); // the channel is closed already
      }
    });
  }

  /** Stream a regular file into `sink`, counting and hashing what passed. */
  async download(path: string, sink: NodeJS.WritableStream, passed: Passed, signal: AbortSignal): Promise<void> {
    const source = new SftpReader(this.#sftp, path);
    try {
      await pipeline(source, meter(passed, Number.MAX_SAFE_INTEGER), sink, { signal });
    } catch (err) {
      throw mapSftpError(err, 'read');
    }
  }

  /** The entries of a directory a batch at a time, links not followed; the handle is closed however the walk ends. */
  async *#entries(path: string): AsyncGenerator<FileEntry[]> {
    const handle = await this.#call<Buffer>('opendir', (cb) => this.#sftp.opendir(path, cb));
    try {
      for (;;) {
        const batch = await new Promise<Array<{ filename: string; attrs: Attributes }> | null>((resolve, reject) => {
          this.#sftp.readdir(handle, (err, list) => {
            if ((err as { code?: unknown } | undefined)?.code === 1) resolve(null); // EOF
            else if (err !== undefined && err !== null) reject(mapSftpError(err, 'readdir'));
            else resolve(list);
          });
        });
        if (batch === null) return;
        yield batch.filter((e) => e.filename !== '.' && e.filename !== '..').map((e) => entry(e.filename, e.attrs));
      }
    } finally {
      this.#sftp.close(handle, () => undefined);
    }
  }

  /**
   * Stream the directory `path` as a tar archive into `sink` (./sftp-tar.ts), its entries named
   * `top/...`; counting and hashing what passed. True when a file changed size while it was read.
   */
  async tar(path: string, top: string, sink: NodeJS.WritableStream, passed: Passed, signal: AbortSignal): Promise<boolean> {
    const st = await this.stat(path);
    const src: TarSource = {
      entries: (p) => this.#entries(p),
      readlink: (p) => this.#call<string>('readlink', (cb) => this.#sftp.readlink(p, cb)),
      read: (p, last) => new SftpReader(this.#sftp, p, { end: last }),
    };
    const state: TarState = { changed: false, entries: 0 };
    const source = Readable.from(tarStream(src, path, { ...st, name: top }, state), { objectMode: false, highWaterMark: CHUNK });
    try {
      await pipeline(source, meter(passed, Number.MAX_SAFE_INTEGER), sink, { signal });
    } catch (err) {
      throw mapSftpError(err, 'read');
    }
    return state.changed;
  }

  /** Stream `body` into `target` through a temporary file in the same directory (see the header). */
  async upload(target: { readonly dir: string; readonly path: string }, body: Readable, passed: Passed, opts: UploadOptions): Promise<void> {
    if (!opts.overwrite && await this.exists(target.path)) throw new BridgeError('FILES_EXISTS', target.path.slice(-200));
    const temp = joinPath(target.dir, `.uwsb-${randomBytes(8).toString('hex')}.part`);
    opts.onTemp(temp);
    try {
      const sink = new SftpWriter(this.#sftp, temp, { flags: 'wx', mode: 0o644 });
      await pipeline(body, meter(passed, opts.limit), sink, { signal: opts.signal });
      await this.rename(temp, target.path, opts.overwrite);
    } catch (err) {
      // A plain failure on a full disk is FILES_DISK_FULL (./sftp-space.ts); asked while the temporary file still holds its bytes.
      const full = await diskFull(this.#sftp, target.dir, err, { declared: declaredLength(body), passed: passed.bytes, chunk: CHUNK });
      await this.discard(temp);
      throw full ?? mapSftpError(err, 'write');
    } finally {
      opts.onTemp(null);
    }
  }

  /** Close the channel. */
  end(): void {
    this.#sftp.end();
  }
}
