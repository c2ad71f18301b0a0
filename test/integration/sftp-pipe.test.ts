/**
 * The pipelined SFTP streams (src/ssh/sftp-pipe.ts) against an in-process ssh2 SFTP server that
 * behaves as a server may but OpenSSH's sftp-server on loopback never does: it holds requests
 * until `depth` are waiting (or the client has no more to send), answers them in reverse order,
 * and answers reads short. The streams
 * must keep the bytes in order, never have more than `depth` requests out, close their handle
 * however they end, and report a server's refusal. Reads are tried both ways a reader reads: with
 * the patched ssh2's `readView` and with ssh2's own `read` into a buffer.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { Readable, type Stream } from 'node:stream';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { connect, type AddressInfo } from 'node:net';
import ssh2 from 'ssh2';
import type { SFTPWrapper } from 'ssh2';
import { SftpReader, SftpWriter, type PipeShape } from '../../src/ssh/sftp-pipe.js';
import { hostKey } from '../helpers/ssh-server.js';

const { Server, Client, utils } = ssh2;
const { STATUS_CODE } = utils.sftp;

const SHAPE: PipeShape = { chunk: 1000, depth: 4 };

interface Served {
  /** The file reads come from; writes land in `written`. */
  file: Buffer;
  written: Buffer;
  maxOut: number;
  reads: Array<{ offset: number; length: number }>;
  closes: number;
  /** Answer the write at this index (0-based) with FAILURE. */
  failWrite: number;
  /** Answer the read at this index (0-based) with PERMISSION_DENIED. */
  failRead: number;
}

/** An ssh2 server with one SFTP handler as described in the header; a connected client's SFTPWrapper. */
async function serve(t: TestContext, served: Served): Promise<SFTPWrapper> {
  const server = new Server({ hostKeys: [hostKey()] }, (conn) => {
    conn.on('authentication', (ctx) => ctx.accept());
    conn.on('error', () => undefined);
    conn.on('ready', () => conn.on('session', (accept) => accept().on('sftp', (acceptSftp) => {
      const sftp = acceptSftp();
      let out = 0;
      let held: Array<() => void> = [];
      let writes = 0;
      // Every request waits until `depth` wait, then all go, newest first. Fewer go once the client
      // has nothing more to send (the file's end, or a consumer not reading), which takes both 20 ms
      // and 10 event-loop turns without a new request. The client runs in this process, so turns
      // are its chances to send: a wall-clock wait alone let a loaded machine (this process
      // descheduled between two reads of its socket) release three of four, and the test saw 3 out
      // at once, not 4; turns alone are not enough either (the first request goes out a few turns
      // before the others).
      const QUIET_TURNS = 10;
      const QUIET_MS = 20;
      let quiet = 0;
      let lastAt = 0;
      let settling = false;
      const release = (): void => {
        const go = held.reverse();
        held = [];
        out = 0;
        for (const answer of go) answer();
      };
      const settle = (): void => {
        if (held.length === 0) {
          settling = false;
          return;
        }
        quiet += 1;
        if (quiet >= QUIET_TURNS && performance.now() - lastAt >= QUIET_MS) {
          settling = false;
          release();
          return;
        }
        setImmediate(settle);
      };
      const hold = (answer: () => void): void => {
        held.push(answer);
        out += 1;
        quiet = 0;
        lastAt = performance.now();
        served.maxOut = Math.max(served.maxOut, out);
        if (held.length >= SHAPE.depth) release();
        else if (!settling) {
          settling = true;
          setImmediate(settle);
        }
      };
      sftp.on('OPEN', (reqid) => sftp.handle(reqid, Buffer.from('h')));
      sftp.on('READ', (reqid, _handle, offset, length) => {
        const index = served.reads.length;
        served.reads.push({ offset, length });
        hold(() => {
          if (index === served.failRead) {
            sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED);
            return;
          }
          if (offset >= served.file.length) {
            sftp.status(reqid, STATUS_CODE.EOF);
            return;
          }
          const short = Math.max(1, Math.floor(length / 3)); // never the whole range asked
          sftp.data(reqid, served.file.subarray(offset, Math.min(offset + short, served.file.length)));
        });
      });
      sftp.on('WRITE', (reqid, _handle, offset, data) => {
        const index = writes++;
        hold(() => {
          if (index === served.failWrite) {
            sftp.status(reqid, STATUS_CODE.FAILURE);
            return;
          }
          if (served.written.length < offset + data.length) {
            const grown = Buffer.alloc(offset + data.length);
            served.written.copy(grown);
            served.written = grown;
          }
          data.copy(served.written, offset);
          sftp.status(reqid, STATUS_CODE.OK);
        });
      });
      sftp.on('CLOSE', (reqid) => {
        served.closes += 1;
        sftp.status(reqid, STATUS_CODE.OK);
      });
    })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new Client();
  t.after(() => {
    client.end();
    server.close();
  });
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    // TCP_NODELAY, as the bridge's own SSH socket has (src/ssh/connect.ts): with Nagle on, the
    // first request leaves at once and the next ones wait for its ACK, which this server, holding
    // the request, sends only with its answer; the test would then never see depth requests out.
    const sock = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, noDelay: true });
    client.connect({ sock, username: 'u', password: 'p' });
  });
  return new Promise((resolve, reject) => client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp))));
}

/**
 * The two ways an SftpReader reads: the patched ssh2's `readView` (the answer's own bytes, the
 * default), and ssh2's own `read` into a buffer (an ssh2 installed without the patch), chosen by
 * hiding readView on the instance. The returned wrapper fails the test if the other one is used.
 */
const READ_PATHS = ['readView (patched ssh2)', 'read into a buffer (unpatched ssh2)'] as const;

function via(sftp: SFTPWrapper, path: (typeof READ_PATHS)[number]): SFTPWrapper {
  const patched = path === READ_PATHS[0];
  assert.equal(typeof sftp.readView, 'function', 'the installed ssh2 carries readView (patches/ssh2+1.17.0.patch)');
  const other = patched ? 'read' : 'readView';
  Object.defineProperty(sftp, other, { configurable: true, value: () => assert.fail(`${other} used on the ${path} path`) });
  if (!patched) Object.defineProperty(sftp, 'readView', { configurable: true, value: undefined });
  return sftp;
}

function fresh(file: Buffer, failWrite = -1, failRead = -1): Served {
  return { file, written: Buffer.alloc(0), maxOut: 0, reads: [], closes: 0, failWrite, failRead };
}

async function collect(source: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source as AsyncIterable<Buffer>) parts.push(part);
  return Buffer.concat(parts);
}

void describe('pipelined SFTP streams (in-process ssh2 SFTP server answering out of order and short)', () => {
  for (const path of READ_PATHS) {
    void it(`${path}: a read keeps depth requests out, never more, and gives the bytes in order; the handle is closed`, async (t) => {
      const file = randomBytes(SHAPE.chunk * 9 + 123); // ends inside a chunk
      const served = fresh(file);
      const sftp = via(await serve(t, served), path);
      const reader = new SftpReader(sftp, 'f', { shape: SHAPE });
      const got = await collect(reader);
      assert.equal(got.length, file.length);
      assert.ok(got.equals(file), 'the bytes arrive in order, short answers filled in');
      assert.equal(served.maxOut, SHAPE.depth, 'depth requests out at once, no more');
      await closed(reader);
      assert.equal(served.closes, 1);
    });

    void it(`${path}: \`end\` bounds the reads: no request past it, and the range is exact`, async (t) => {
      const file = randomBytes(SHAPE.chunk * 5);
      const served = fresh(file);
      const sftp = via(await serve(t, served), path);
      const end = SHAPE.chunk * 2 + 10;
      const reader = new SftpReader(sftp, 'f', { shape: SHAPE, end });
      const got = await collect(reader);
      assert.ok(got.equals(file.subarray(0, end + 1)));
      assert.ok(served.reads.every((r) => r.offset + r.length <= end + 1), 'nothing asked past end');
      await closed(reader);
      assert.equal(served.closes, 1);
    });

    void it(`${path}: an empty file ends at once; a reader destroyed midway closes its handle`, async (t) => {
      const served = fresh(Buffer.alloc(0));
      const sftp = via(await serve(t, served), path);
      const empty = new SftpReader(sftp, 'f', { shape: SHAPE });
      assert.equal((await collect(empty)).length, 0);
      await closed(empty);
      assert.equal(served.closes, 1);
      served.file = randomBytes(SHAPE.chunk * 50);
      const reader = new SftpReader(sftp, 'f', { shape: SHAPE });
      await once(reader, 'data');
      reader.destroy();
      await closed(reader);
      assert.equal(served.closes, 2);
      const furthest = Math.max(...served.reads.map((r) => r.offset));
      assert.ok(furthest < served.file.length - SHAPE.chunk * SHAPE.depth, `the reads stopped with the stream (furthest asked: ${furthest})`);
    });

    void it(`${path}: a refused read fails the stream with the server's status and closes the handle`, async (t) => {
      const served = fresh(randomBytes(SHAPE.chunk * 20), -1, 6);
      const sftp = via(await serve(t, served), path);
      const reader = new SftpReader(sftp, 'f', { shape: SHAPE });
      await assert.rejects(collect(reader), (err: { code?: unknown }) => err.code === STATUS_CODE.PERMISSION_DENIED);
      await closed(reader);
      assert.equal(served.closes, 1);
    });
  }

  void it('a write keeps depth requests out and the file is exact, writes small and large gathered by offset', async (t) => {
    const served = fresh(Buffer.alloc(0));
    const sftp = await serve(t, served);
    const data = randomBytes(SHAPE.chunk * 12 + 77);
    // Pieces of many sizes, some smaller and some larger than a chunk.
    const pieces: Buffer[] = [];
    for (let at = 0, i = 0; at < data.length; i += 1) {
      const n = [10, 999, 1500, 3, 4000, 250][i % 6] ?? 1;
      pieces.push(data.subarray(at, at + n));
      at += n;
    }
    const writer = new SftpWriter(sftp, 'w', { shape: SHAPE, flags: 'wx', mode: 0o644 });
    await pipeline(Readable.from(pieces), writer);
    assert.ok(served.written.equals(data), 'the file as written equals the input');
    assert.ok(served.maxOut <= SHAPE.depth && served.maxOut > 1, `requests out at once: ${served.maxOut}`);
    assert.equal(served.closes, 1, 'finished only after the close was answered');
    await closed(writer);
  });

  void it('a refused write fails the stream and closes the handle', async (t) => {
    const served = fresh(Buffer.alloc(0), 5);
    const sftp = await serve(t, served);
    const writer = new SftpWriter(sftp, 'w', { shape: SHAPE, flags: 'wx', mode: 0o644 });
    await assert.rejects(pipeline(Readable.from([randomBytes(SHAPE.chunk * 20)]), writer), (err: { code?: unknown }) => err.code === STATUS_CODE.FAILURE);
    await closed(writer);
    assert.equal(served.closes, 1);
  });
});

/** A stream's 'close': it comes after _destroy's callback, which waits for the server's answer to CLOSE. */
async function closed(stream: Stream & { readonly closed: boolean }): Promise<void> {
  if (!stream.closed) await once(stream, 'close');
}
