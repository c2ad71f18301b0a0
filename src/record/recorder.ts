/**
 * Session recording (`--record-dir`): every session that reaches ACTIVE and passes
 * `--record-filter` is written as an asciicast v2 file (./asciicast.ts) named
 * `YYYYMMDDTHHMMSSZ-<session id>.cast` in the directory, or on a node of a cluster
 * (`--cluster-redis`) `YYYYMMDDTHHMMSSZ-<node id>-<session id>.cast` (./catalog.ts), so the nodes
 * can share one directory (a shared mount) and the listing says which node wrote what.
 *
 * - The directory is created (mode 0700) and probed for writing when the App is built; a
 *   directory that cannot be created or written stops the start (RecordSetupError, exit 2).
 * - Each file is created exclusively (O_EXCL, never following or overwriting anything) with mode
 *   0600 and written through a fs.WriteStream, asynchronously: the session never waits for the
 *   disk. The stream's queue is the bounded buffer: past MAX_PENDING bytes not yet written the
 *   recording stops with a truncation marker (AsciicastWriter). The file is fsync'ed before it is
 *   closed (`flush: true`).
 * - While the file is written, a live marker sits next to it (`<name>.live`, ./live-marker.ts:
 *   this process's id and start), created exclusively (0600) just before the file and removed
 *   once the file is closed, whatever the outcome, before `recording_finished`; the listing
 *   (./store.ts) reads it. Its few bytes are the one write the session waits for, so that no
 *   listing sees a running recording without its marker. While the recording is open, the
 *   recorder touches its marker every `touchMs` (a third of `--cluster-lease`, ./live-marker.ts):
 *   the heartbeat by which the other nodes of a cluster tell a running writer from a dead one.
 * - A recording never breaks its session: an error (disk full, EACCES, the directory removed) is
 *   logged once as `recording_failed` and only that recording stops. The outcome is logged as
 *   `recording_finished` with the file name and byte count otherwise.
 * - Each SessionRecording owns its stream; `close()` is idempotent and the session calls it from
 *   its own close path. `Recorder.closeAll` waits (bounded) for every file at shutdown, so no
 *   recording is cut by the process exiting.
 *
 * What is recorded: output as the client received it ("o"), resizes ("r"), and with
 * `--record-input` the terminal input forwarded to the shell ("i"). Credentials never are: they
 * travel in the auth message and keyboard-interactive `prompt-reply` messages, before the
 * session is ACTIVE and before the recording exists, and input queued during authentication is
 * not recorded either when it is replayed (see BridgeSession).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, rmSync, statSync, unlinkSync, writeFileSync, type WriteStream } from 'node:fs';
import { lutimes, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Identity } from '../auth/identity.js';
import { clusterNode } from '../config/cluster-kinds.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { formatHostPort } from '../grammar/target-rule.js';
import { AsciicastWriter, type StopReason } from './asciicast.js';
import { RecordFilter } from './filter.js';
import { recordingName } from './catalog.js';
import { formatMarker, liveMarkerName, markerTiming } from './live-marker.js';
import { thisWriter } from './writer-process.js';
import { settledWithin } from '../util/settle.js';

/** Bytes a recording may have queued for the disk before it is stopped. */
export const MAX_PENDING = 1024 * 1024;
/** Markers touched at once by a heartbeat. */
const TOUCH_PARALLEL = 8;
/** How long shutdown waits for the files still being written. */
const CLOSE_ALL_TIMEOUT_MS = 5000;

/** The record directory cannot be created or written: a configuration problem (exit 2). */
export class RecordSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RecordSetupError';
  }
}

/** What a session tells the recorder when it becomes ACTIVE. Never holds credentials. */
export interface RecordingInfo {
  readonly sessionId: string;
  readonly username: string;
  /** The target as the client asked for it, and its port. */
  readonly host: string;
  readonly port: number;
  /** The jump hosts on the way, `user@host:port` in order (src/policy/route-names.ts); empty: direct. */
  readonly route: readonly string[];
  readonly clientIp: string;
  readonly identity: Identity;
  readonly protocol: string;
  readonly term: string;
  readonly cols: number;
  readonly rows: number;
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? (err instanceof Error ? err.message : String(err));
}

/** `20240102T030405Z` in UTC. */
export function fileStamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/**
 * Create `dir` (0700) when missing and prove that a file can be created in it. Returns the
 * absolute path and whether the directory lets group or others in.
 */
export function prepareRecordDir(dir: string): { readonly dir: string; readonly permissive: boolean } {
  const abs = resolve(dir);
  try {
    mkdirSync(abs, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new RecordSetupError(`record-dir ${abs}: cannot create the directory (${errText(err)})`, { cause: err });
  }
  let mode: number;
  try {
    const st = statSync(abs);
    if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    mode = st.mode;
  } catch (err) {
    throw new RecordSetupError(`record-dir ${abs}: not a usable directory (${errText(err)})`, { cause: err });
  }
  const probe = join(abs, `.probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
    unlinkSync(probe);
  } catch (err) {
    throw new RecordSetupError(`record-dir ${abs}: cannot write a file there (${errText(err)})`, { cause: err });
  }
  return { dir: abs, permissive: (mode & 0o077) !== 0 };
}

/** What the recorder reads of the configuration. */
export type RecorderConfig = Pick<Config, 'recordDir' | 'recordInput' | 'recordMaxSize' | 'recordFilter' | 'clusterRedis' | 'nodeId' | 'clusterLeaseMs'>;

export class Recorder {
  readonly dir: string;
  readonly #recordInput: boolean;
  readonly #maxBytes: number;
  readonly #filter: RecordFilter;
  readonly #open = new Set<SessionRecording>();
  /** What this process's live markers hold. */
  readonly #marker = formatMarker(thisWriter());
  /** The node id its file names carry (a node of a cluster), or null (one node: the names of old). */
  readonly node: string | null;
  /** How often the open recordings' markers are touched. */
  readonly #touchMs: number;
  #heartbeat: NodeJS.Timeout | undefined;
  #touching = false;

  private constructor(dir: string, config: RecorderConfig, node: string | null) {
    this.dir = dir;
    this.node = node;
    this.#recordInput = config.recordInput;
    this.#maxBytes = config.recordMaxSize;
    this.#filter = new RecordFilter(config.recordFilter);
    this.#touchMs = markerTiming(config.clusterLeaseMs).touchMs;
  }

  /** null when recording is off; throws RecordSetupError when the directory is unusable. */
  static fromConfig(config: RecorderConfig, logger: Logger): Recorder | null {
    if (config.recordDir === null) return null;
    const { dir, permissive } = prepareRecordDir(config.recordDir);
    if (permissive) logger.warn({ event: 'record_dir_permissive', dir }, 'record-dir is accessible to group or others; recordings hold everything shown on screen');
    return new Recorder(dir, config, clusterNode(config, hostname()));
  }

  /** Recordings whose file is still open. */
  get openCount(): number {
    return this.#open.size;
  }

  /**
   * Start recording a session that became ACTIVE, or undefined when the filter leaves it out or
   * its live marker cannot be made (the directory is gone or unwritable: logged as
   * `recording_failed`, and the session goes on without a recording).
   */
  start(info: RecordingInfo, log: Logger): SessionRecording | undefined {
    const target = formatHostPort(info.host, info.port);
    if (!this.#filter.matches(info.username, target)) return undefined;
    const now = new Date();
    const name = recordingName(fileStamp(now), info.sessionId, this.node);
    const file = join(this.dir, name);
    const marker = join(this.dir, liveMarkerName(name));
    try {
      // O_EXCL: like the file, a marker never overwrites or follows anything.
      writeFileSync(marker, this.#marker, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      log.error({ event: 'recording_failed', file, error: errText(err), message: err instanceof Error ? err.message : String(err), bytes: 0 }, 'recording failed; the session goes on without it');
      return undefined;
    }
    try {
      const recording = new SessionRecording({
        file, marker, log, recordInput: this.#recordInput, maxBytes: this.#maxBytes,
        header: {
          width: info.cols, height: info.rows, timestamp: Math.floor(now.getTime() / 1000), term: info.term,
          title: `${info.username}@${target}`,
          extra: {
            webssh_bridge: {
              session: info.sessionId, client_ip: info.clientIp, auth_method: info.identity.method,
              subject: info.identity.subject, protocol: info.protocol, route: info.route,
            },
          },
        },
        onClosed: (r) => {
          this.#open.delete(r);
          if (this.#open.size === 0) this.#stopHeartbeat();
        },
      });
      this.#open.add(recording);
      this.#startHeartbeat();
      return recording;
    } catch (err) {
      rmSync(marker, { force: true });
      throw err;
    }
  }

  /** Touch the open recordings' markers every touchMs while there is one (no timer otherwise). */
  #startHeartbeat(): void {
    if (this.#heartbeat !== undefined) return;
    this.#heartbeat = setInterval(() => this.#touch(), this.#touchMs);
    this.#heartbeat.unref();
  }

  #stopHeartbeat(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /**
   * One heartbeat: every open marker's mtime to now, TOUCH_PARALLEL at a time (the writes of the
   * recordings share libuv's few threads with them). A heartbeat still under way (a slow mount)
   * skips this one.
   */
  #touch(): void {
    if (this.#touching) return;
    this.#touching = true;
    const now = new Date();
    const open = [...this.#open];
    void (async () => {
      for (let i = 0; i < open.length; i += TOUCH_PARALLEL) await Promise.all(open.slice(i, i + TOUCH_PARALLEL).map((r) => r.touch(now)));
    })().finally(() => {
      this.#touching = false;
    });
  }

  /** Close every recording and wait for its file (at most `timeoutMs`; then the rest are cut). */
  async closeAll(log: Logger, timeoutMs = CLOSE_ALL_TIMEOUT_MS): Promise<void> {
    const closing = [...this.#open].map((r) => r.close());
    if (closing.length === 0) return;
    if (await settledWithin(closing, timeoutMs)) {
      log.warn({ event: 'recording_close_timeout', remaining: this.#open.size }, 'recordings still being written at shutdown were cut');
      for (const r of this.#open) r.abort('shutdown timeout');
      await Promise.allSettled(closing);
    }
  }
}

interface RecordingOptions {
  readonly file: string;
  /** Its live marker, removed once the file is closed. */
  readonly marker: string;
  readonly log: Logger;
  readonly recordInput: boolean;
  readonly maxBytes: number;
  readonly header: ConstructorParameters<typeof AsciicastWriter>[0]['header'];
  readonly onClosed: (r: SessionRecording) => void;
}

/** One session's file. Every method is safe to call at any time, also after close(). */
export class SessionRecording {
  readonly file: string;
  readonly #marker: string;
  readonly #log: Logger;
  readonly #recordInput: boolean;
  readonly #stream: WriteStream;
  readonly #writer: AsciicastWriter;
  readonly #closed: Promise<void>;
  #failed = false;
  #truncated: string | undefined;

  constructor(opts: RecordingOptions) {
    this.file = opts.file;
    this.#marker = opts.marker;
    this.#log = opts.log;
    this.#recordInput = opts.recordInput;
    // O_EXCL: a name that exists (or a planted symlink) is an error, never overwritten or followed.
    const stream = createWriteStream(opts.file, { flags: 'wx', mode: 0o600, flush: true });
    this.#stream = stream;
    this.#closed = new Promise<void>((done) => {
      // No longer live once closed: the file is whole (or, after a failure, will not grow). The
      // marker goes first, so that a listing after `recording_finished` never says live.
      stream.once('close', () => void unlink(opts.marker).catch(() => undefined).then(() => {
        if (!this.#failed) {
          this.#log.info({ event: 'recording_finished', file: this.file, bytes: stream.bytesWritten, events: this.#writer.events, truncated: this.#truncated ?? null }, 'recording_finished');
        }
        opts.onClosed(this);
        done();
      }));
    });
    stream.on('error', (err) => this.#fail(err));
    this.#writer = new AsciicastWriter({
      header: opts.header, maxBytes: opts.maxBytes, maxPending: MAX_PENDING,
      sink: { write: (text) => void stream.write(text), get pending() { return stream.writableLength; } },
      onStop: (reason, message) => this.#stopped(reason, message),
    });
    this.#log.info({ event: 'recording_started', file: this.file, width: opts.header.width, height: opts.header.height, record_input: this.#recordInput }, 'recording_started');
  }

  /** Bytes handed to the file so far (header included). */
  get bytes(): number {
    return this.#writer.bytes;
  }

  output(chunk: Buffer): void {
    this.#writer.output(chunk);
  }

  /** Terminal input forwarded to the shell; dropped unless --record-input. */
  input(chunk: Buffer): void {
    if (this.#recordInput) this.#writer.input(chunk);
  }

  resize(cols: number, rows: number): void {
    this.#writer.resize(cols, rows);
  }

  /** A marker event (a file transfer). */
  marker(text: string): void {
    this.#writer.marker(text);
  }

  /** Finish the file (decoders flushed, fsync, close). Idempotent; resolves when the file is closed. */
  close(): Promise<void> {
    this.#writer.finish();
    return this.#closed;
  }

  /**
   * The marker's heartbeat: its mtime to `now`. Never follows a symlink (lutimes), never creates
   * anything; a marker already removed (the file closed meanwhile) or a failing mount is let be:
   * the recording goes on, and the other nodes see its marker grow stale.
   */
  touch(now: Date): Promise<void> {
    return lutimes(this.#marker, now, now).catch(() => undefined);
  }

  /** Cut the file now without finishing it (shutdown that cannot wait longer). */
  abort(why: string): void {
    this.#fail(new Error(why));
  }

  #stopped(reason: StopReason, message: string | undefined): void {
    if (reason === 'failed') return; // #fail or abort() tore the stream down
    if (reason !== 'finished') {
      this.#truncated = message;
      this.#log.warn({ event: 'recording_truncated', file: this.file, reason, bytes: this.#writer.bytes }, message ?? 'recording truncated');
    }
    this.#stream.end();
  }

  /** The first error only: log it, stop the writer, release the file. */
  #fail(err: Error): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#writer.fail(errText(err));
    this.#log.error({ event: 'recording_failed', file: this.file, error: errText(err), message: err.message, bytes: this.#stream.bytesWritten }, 'recording failed; the session goes on without it');
    this.#stream.destroy();
  }
}
