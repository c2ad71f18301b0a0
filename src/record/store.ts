/**
 * The record directory as the recordings view reads it: a bounded listing (newest first, by the
 * start time in the file name) and one file opened for streaming. Only names of the recorder's
 * own shape (./catalog.ts) are ever opened, always inside the directory, with O_NOFOLLOW (a
 * symlink is never followed, wherever it points) and O_NONBLOCK (a FIFO planted under such a name
 * cannot hang the request); anything that is not a regular file is neither listed nor served.
 * Listing reads only the first HEAD_BYTES (the header) and the last TAIL_BYTES (the duration)
 * of each listed file, never a whole file, and for one with a live marker (./live-marker.ts) that
 * marker, to say whether the recording is still being written (`live`).
 *
 * In a cluster the directory is shared by the nodes (a shared mount): every node lists every
 * node's files, each with the `node` its name carries, and judges another node's markers by their
 * heartbeat, its own also by their process (./live-marker.ts). The marker's mtime comes from the
 * fstat of the open marker, which a network filesystem revalidates on open (NFS close-to-open).
 */
import { constants, type Stats } from 'node:fs';
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { clusterNode } from '../config/cluster-kinds.js';
import type { Config } from '../config/types.js';
import { BridgeError } from '../errors.js';
import { isRecordingName, lastEventTime, parseCastHeader, parseRecordingName, type CastHeaderInfo } from './catalog.js';
import { liveMarkerName, markedRecording, markerTiming, markerVerdict, MAX_MARKER_BYTES, parseMarker, writerLive } from './live-marker.js';
import { writerState } from './writer-process.js';

/** Most entries one listing returns (and the default). */
export const MAX_LISTED = 1000;
/** Bytes read from the start of a file for its header (the recorder's header is a few hundred). */
export const HEAD_BYTES = 8 * 1024;
/** Bytes read from the end of a file for its last event time. */
export const TAIL_BYTES = 4 * 1024;
/** Files examined at once while listing. */
const PARALLEL = 16;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export interface RecordingEntry extends CastHeaderInfo {
  readonly name: string;
  /** The node that wrote it (from the name); null for a gateway of one node. */
  readonly node: string | null;
  readonly size: number;
  /** Last modification, ISO 8601. */
  readonly mtime: string;
  /** Seconds from the start to the last event; null when the file has no complete event. */
  readonly duration: number | null;
  /** Still being written: its live marker is fresh and, on the node that wrote it, names a process that runs. */
  readonly live: boolean;
}

export interface Listing {
  readonly recordings: RecordingEntry[];
  /** More recordings match than `limit`: ask again with `before` = the last name. */
  readonly truncated: boolean;
}

export interface OpenedRecording {
  readonly handle: FileHandle;
  readonly size: number;
  readonly mtime: Date;
}

async function readAt(handle: FileHandle, length: number, position: number): Promise<string> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await handle.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead).toString('utf8');
}

/** Open `name` in `dir` as a regular file, or null (missing, a symlink, a directory, a FIFO...). */
async function openRegular(dir: string, name: string): Promise<{ handle: FileHandle; stat: Stats } | null> {
  let handle: FileHandle;
  try {
    handle = await open(join(dir, name), OPEN_FLAGS);
  } catch {
    return null; // ENOENT, ELOOP (a symlink), EACCES...: not a recording we can serve
  }
  try {
    const stat = await handle.stat();
    if (stat.isFile()) return { handle, stat };
  } catch {
    // fall through: closed below
  }
  await handle.close();
  return null;
}

/** Who lists: the node whose markers it may check by process, and how old a marker may be. */
export interface StoreOptions {
  /** This node's id in a cluster (`clusterNode`), null for a gateway of one node. */
  readonly node: string | null;
  /** A marker not touched for this long is stale (`markerTiming(--cluster-lease).staleMs`). */
  readonly staleMs: number;
  /** The clock markers are judged by (ms since the epoch); tests may pass their own. */
  readonly now?: () => number;
}

export class RecordingStore {
  /** Absolute path of the record directory. */
  readonly dir: string;
  readonly #node: string | null;
  readonly #staleMs: number;
  readonly #now: () => number;

  constructor(dir: string, opts: StoreOptions) {
    this.dir = dir;
    this.#node = opts.node;
    this.#staleMs = opts.staleMs;
    this.#now = opts.now ?? Date.now;
  }

  /** The store of `dir` as this node lists it: its node id in a cluster, the marker timing of its lease. */
  static fromConfig(dir: string, config: Pick<Config, 'clusterRedis' | 'nodeId' | 'clusterLeaseMs'>): RecordingStore {
    return new RecordingStore(dir, { node: clusterNode(config, hostname()), staleMs: markerTiming(config.clusterLeaseMs).staleMs });
  }

  /**
   * Up to `limit` recordings, newest first, optionally only those older than the recording named
   * `before` (names sort by start time). Files that vanish or are not regular files are left out.
   */
  async list(opts: { limit?: number; before?: string | null } = {}): Promise<Listing> {
    const limit = Math.min(Math.max(1, opts.limit ?? MAX_LISTED), MAX_LISTED);
    const before = opts.before ?? null;
    const all = await readdir(this.dir);
    const marked = new Set(all.map(markedRecording).filter((n) => n !== null));
    const names = all
      .filter((n) => isRecordingName(n) && (before === null || n < before))
      .sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const chosen = names.slice(0, limit);
    const entries: RecordingEntry[] = [];
    for (let i = 0; i < chosen.length; i += PARALLEL) {
      const batch = await Promise.all(chosen.slice(i, i + PARALLEL).map((n) => this.#describe(n, marked.has(n))));
      for (const e of batch) if (e !== null) entries.push(e);
    }
    return { recordings: entries, truncated: names.length > limit };
  }

  /**
   * Open a recording for reading. Throws BridgeError BAD_RECORDING_NAME for a name the recorder
   * never writes (before touching the filesystem) and RECORDING_NOT_FOUND when there is no
   * regular file of that name. The caller closes the handle.
   */
  async open(name: string): Promise<OpenedRecording> {
    if (!isRecordingName(name)) throw new BridgeError('BAD_RECORDING_NAME');
    const opened = await openRegular(this.dir, name);
    if (opened === null) throw new BridgeError('RECORDING_NOT_FOUND');
    return { handle: opened.handle, size: opened.stat.size, mtime: opened.stat.mtime };
  }

  /** `marked`: the directory had a live marker for it when it was read. */
  async #describe(name: string, marked: boolean): Promise<RecordingEntry | null> {
    const opened = await openRegular(this.dir, name);
    if (opened === null) return null;
    const { handle, stat } = opened;
    try {
      const head = await readAt(handle, Math.min(HEAD_BYTES, stat.size), 0);
      // A file no longer than TAIL_BYTES (< HEAD_BYTES) was read whole as its head; its first line,
      // the header, is no event and lastEventTime passes over it.
      const whole = stat.size <= TAIL_BYTES;
      const tail = whole ? head : await readAt(handle, TAIL_BYTES, stat.size - TAIL_BYTES);
      const node = parseRecordingName(name)?.node ?? null;
      const live = marked && await this.#live(name, node);
      return { name, node, size: stat.size, mtime: stat.mtime.toISOString(), ...parseCastHeader(head), duration: lastEventTime(tail, whole), live };
    } catch {
      return null;
    } finally {
      await handle.close();
    }
  }

  /**
   * Whether recording `name`, written by `node`, is still being written: its marker is there (the
   * recorder removes it once the file is closed), touched lately, and, when it is this node's,
   * names a process that runs (a writer that died leaves a stale one).
   */
  async #live(name: string, node: string | null): Promise<boolean> {
    const opened = await openRegular(this.dir, liveMarkerName(name));
    if (opened === null) return false; // finished since the directory was read
    let text = '';
    try {
      text = await readAt(opened.handle, Math.min(MAX_MARKER_BYTES, opened.stat.size), 0);
    } catch {
      // unreadable: not a marker the listing can trust; the recording is listed all the same
    } finally {
      await opened.handle.close();
    }
    const writer = parseMarker(text);
    const verdict = markerVerdict({ writer, node, mtimeMs: opened.stat.mtimeMs }, { node: this.#node, nowMs: this.#now(), staleMs: this.#staleMs });
    if (verdict !== 'ask-writer' || writer === null) return verdict === 'live';
    return writerLive(writer, await writerState(writer.pid));
  }
}
