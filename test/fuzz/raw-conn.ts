/**
 * A raw TCP client for the live fuzzer: writes whatever bytes it is given (an HTTP request that
 * no HTTP client would send, WebSocket frames that no WebSocket library would send), parses the
 * HTTP response head and then the server's WebSocket frames, answers pings and the close
 * handshake (unless told not to), and records everything for the checks.
 */
import { connect, type Socket } from 'node:net';
import { OP, closePayload, encodeFrame } from './generators.js';
import { Waiters } from './waiters.js';

export interface ServerFrame {
  readonly opcode: number;
  readonly fin: boolean;
  readonly payload: Buffer;
}

export interface HttpHead {
  readonly status: number;
  readonly statusLine: string;
  /** Lower-cased header names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
}

/** Cap on what is kept of output frames (a flood can be megabytes). */
const KEEP_OUTPUT = 64 * 1024;

export class RawConn {
  readonly socket: Socket;
  /** Resolves when the TCP connection is fully closed. */
  readonly closed: Promise<void>;
  head: HttpHead | undefined;
  body: Buffer = Buffer.alloc(0);
  /** The server's close frame: code (1005 when it had none) and reason. */
  closeFrame: { code: number; reason: string } | undefined;
  /** Text frames (v1 control messages), parsed when JSON. */
  readonly texts: unknown[] = [];
  /** Binary output, first KEEP_OUTPUT bytes. */
  output: Buffer = Buffer.alloc(0);
  outputBytes = 0;
  framesReceived = 0;
  /** A server frame this client could not parse (a bridge bug, or our parser's). */
  badServerFrame: string | undefined;
  isClosed = false;
  /** Answer the server's pings with pongs. */
  autoPong = true;
  /** Answer the server's close frame with ours and end our side. */
  replyClose = true;
  #buf: Buffer = Buffer.alloc(0);
  #upgraded = false;
  #sentClose = false;
  readonly #waiters = new Waiters();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => undefined); // resets are expected: the checks look at what arrived
    socket.on('data', (d: Buffer) => this.#onData(d));
    this.closed = new Promise<void>((resolve) => socket.once('close', () => {
      this.isClosed = true;
      this.#notify();
      resolve();
    }));
  }

  static open(port: number, timeoutMs = 5000): Promise<RawConn> {
    return new Promise<RawConn>((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1', noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('raw connect timed out'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawConn(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  get upgraded(): boolean {
    return this.#upgraded;
  }

  /** Write unless the socket is gone; resolves once flushed (or immediately when it cannot be). */
  write(data: Buffer): Promise<void> {
    if (this.socket.destroyed || !this.socket.writable) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.socket.write(data, () => resolve());
    });
  }

  sendFrame(opcode: number, payload: Buffer, fin = true): Promise<void> {
    if (opcode === OP.CLOSE) this.#sentClose = true;
    return this.write(encodeFrame({ opcode, payload, fin }));
  }

  /** Our side is done: send FIN. */
  end(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Resolve true once `pred` holds, false after `ms` or when the connection closed first. */
  waitFor(pred: () => boolean, ms: number): Promise<boolean> {
    return this.#waiters.waitFor(pred, ms, () => this.isClosed);
  }

  waitClosed(ms: number): Promise<boolean> {
    return this.waitFor(() => this.isClosed, ms);
  }

  #notify(): void {
    this.#waiters.notify();
  }

  #onData(d: Buffer): void {
    this.#buf = this.#buf.length === 0 ? d : Buffer.concat([this.#buf, d]);
    if (this.head === undefined) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (this.#buf.length > 64 * 1024) this.badServerFrame = 'response head over 64 KiB';
        return this.#notify();
      }
      this.head = parseHead(this.#buf.subarray(0, end).toString('latin1'));
      this.#buf = this.#buf.subarray(end + 4);
      this.#upgraded = this.head.status === 101;
    }
    if (!this.#upgraded) {
      if (this.body.length < KEEP_OUTPUT) this.body = Buffer.concat([this.body, this.#buf]);
      this.#buf = Buffer.alloc(0);
      return this.#notify();
    }
    this.#parseFrames();
    this.#notify();
  }

  #parseFrames(): void {
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      const b0 = b[0] ?? 0;
      const b1 = b[1] ?? 0;
      if ((b1 & 0x80) !== 0) {
        this.badServerFrame = 'server frame is masked';
        this.#buf = Buffer.alloc(0);
        return;
      }
      if ((b0 & 0x70) !== 0) this.badServerFrame = 'server frame has RSV bits';
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(64 * 1024 * 1024)) {
          this.badServerFrame = `server frame of ${big} bytes`;
          this.#buf = Buffer.alloc(0);
          return;
        }
        len = Number(big);
        off = 10;
      }
      if (b.length < off + len) return;
      const frame: ServerFrame = { opcode: b0 & 0x0f, fin: (b0 & 0x80) !== 0, payload: Buffer.from(b.subarray(off, off + len)) };
      this.#buf = b.subarray(off + len);
      this.framesReceived++;
      this.#onFrame(frame);
    }
  }

  #onFrame(f: ServerFrame): void {
    switch (f.opcode) {
      case OP.PING:
        if (this.autoPong && !this.#sentClose) void this.write(encodeFrame({ opcode: OP.PONG, payload: f.payload }));
        return;
      case OP.PONG:
        return;
      case OP.CLOSE: {
        if (this.closeFrame !== undefined) {
          this.badServerFrame = 'second close frame';
          return;
        }
        const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
        this.closeFrame = { code, reason: f.payload.subarray(2).toString('utf8') };
        if (this.replyClose) {
          if (!this.#sentClose) void this.sendFrame(OP.CLOSE, f.payload.length >= 2 ? closePayload(code) : Buffer.alloc(0));
          this.end();
        }
        return;
      }
      case OP.TEXT: {
        const s = f.payload.toString('utf8');
        try {
          this.texts.push(JSON.parse(s));
        } catch {
          this.texts.push(s);
        }
        return;
      }
      case OP.BINARY:
      case OP.CONT:
        this.outputBytes += f.payload.length;
        if (this.output.length < KEEP_OUTPUT) this.output = Buffer.concat([this.output, f.payload]);
        return;
      default:
        this.badServerFrame = `server sent opcode ${f.opcode}`;
    }
  }
}

function parseHead(text: string): HttpHead {
  const [statusLine = '', ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  return { status: m?.[1] !== undefined ? Number(m[1]) : 0, statusLine, headers };
}

/** A well-formed upgrade request for `path`, with extra header lines. */
export function upgradeRequest(path: string, port: number, key: string, extra: ReadonlyArray<readonly [string, string]> = []): Buffer {
  const lines = [
    `GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', ...extra.map(([k, v]) => `${k}: ${v}`),
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}
