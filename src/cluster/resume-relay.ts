/**
 * Resume across workers (docs/protocol.md#resume, docs/configuration.md#resume). The kernel hands
 * each new connection to any worker, but a detached session lives in the worker that opened it;
 * its resume token starts with that worker's id. A worker that receives a resume for another
 * worker has already run the ban, rate, origin and authentication checks; it then opens the owner's
 * private Unix socket (`<dir>/<id>.sock`, in a 0700 directory the primary made), writes the
 * request head there with what it established (client IP, identity) in two headers of its own,
 * and pipes the bytes both ways. The owner answers the upgrade itself, so the WebSocket runs end
 * to end between the client and the owner, over whatever the first worker terminated (plain TCP
 * or TLS), with TCP backpressure through the pipe.
 *
 * The Unix socket only accepts relayed resumes, views and file requests: the owner's listener
 * treats the two headers as facts (only this user's processes can reach the directory) and
 * refuses anything else. Headers of those names sent by a client are dropped before relaying. A
 * file request (a plain HTTP request, src/http/files-route.ts) is passed as a new request on the
 * socket (`relayRequest`): its body streams to the owner and the owner's answer streams back.
 */
import { createServer, request, type ClientRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { unlinkSync } from 'node:fs';
import type { Identity } from '../auth/identity.js';
import { ownerWorker, workerOwner, type OwnerId } from '../grammar/owner-id.js';
import type { Relay, RelayedFacts } from '../http/relay.js';
import type { Logger } from '../log.js';

const IP_HEADER = 'x-webssh-relay-client-ip';
const IDENTITY_HEADER = 'x-webssh-relay-identity';

/** The socket path of worker `id`'s relay listener. */
export function relaySocketPath(dir: string, id: number): string {
  return join(dir, `${id}.sock`);
}

/** The relayed facts of a request on the relay listener, or null when they are missing or malformed. */
export function relayedFacts(req: IncomingMessage): RelayedFacts | null {
  const ip = req.headers[IP_HEADER];
  const id = req.headers[IDENTITY_HEADER];
  if (typeof ip !== 'string' || typeof id !== 'string') return null;
  try {
    const identity = JSON.parse(Buffer.from(id, 'base64url').toString('utf8')) as Identity;
    if (typeof identity.subject !== 'string' || typeof identity.method !== 'string') return null;
    return { clientIp: ip, identity };
  } catch {
    return null;
  }
}

/** Headers only a process of this gateway may set: dropped from whatever a client sent before relaying. */
const INTERNAL = /^x-webssh-(relay-|node-)/i;

/** The client's own headers (minus any internal ones) plus `extra`, as name-value pairs. */
export function forwardedHeaders(req: IncomingMessage, extra: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (INTERNAL.test(name)) continue;
    out.push([name, raw[i + 1] ?? '']);
  }
  for (const [n, v] of extra) out.push([n, v]);
  return out;
}

/** The request head as the next process must see it: the client's request line and headers, plus `extra`. */
export function forwardedHead(req: IncomingMessage, extra: ReadonlyArray<readonly [string, string]>): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`, ...forwardedHeaders(req, extra).map(([n, v]) => `${n}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The facts as the owner worker reads them from its Unix socket. */
function factHeaders(facts: RelayedFacts): Array<[string, string]> {
  return [[IP_HEADER, facts.clientIp], [IDENTITY_HEADER, Buffer.from(JSON.stringify(facts.identity)).toString('base64url')]];
}


function requestHead(req: IncomingMessage, facts: RelayedFacts): string {
  return forwardedHead(req, factHeaders(facts));
}

/**
 * Pass a plain HTTP request through `open` (a request to the next process, given the headers to
 * send: the client's, minus any internal and hop-by-hop ones, plus `extra`); the answer's status,
 * headers and body go back to `res`, both bodies streamed with backpressure. `onFail` runs when the
 * next process cannot be reached before it answered, so the caller can still refuse.
 */
export function forwardRequest(open: (headers: Record<string, string>) => ClientRequest, req: IncomingMessage, res: ServerResponse, extra: ReadonlyArray<readonly [string, string]>, onFail: () => void): void {
  const headers: Record<string, string> = {};
  for (const [n, v] of forwardedHeaders(req, extra)) {
    const k = n.toLowerCase();
    if (!/^(connection|keep-alive|transfer-encoding|upgrade)$/.test(k)) headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  const upstream = open(headers);
  let answered = false;
  upstream.on('response', (up) => {
    answered = true;
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !/^(connection|keep-alive|transfer-encoding)$/i.test(k)) out[k] = v;
    res.writeHead(up.statusCode ?? 502, out);
    pipeline(up, res).catch(() => res.destroy());
  });
  upstream.on('error', () => {
    if (!answered && !res.headersSent) onFail();
    else res.destroy();
  });
  res.on('close', () => upstream.destroy());
  pipeline(req, upstream).catch(() => upstream.destroy());
}

/**
 * Pass a plain HTTP request to worker `owner` as a new request on its relay socket (forwardRequest).
 * Hop-by-hop framing is the two servers' own.
 */
export function relayRequest(dir: string, owner: OwnerId, req: IncomingMessage, res: ServerResponse, facts: RelayedFacts, logger: Logger, onFail: () => void): void {
  const worker = ownerWorker(owner);
  logger.debug({ event: 'files_relayed', to_worker: worker }, 'file request passed to the worker holding the session');
  forwardRequest((headers) => request({ socketPath: relaySocketPath(dir, worker), method: req.method, path: req.url, headers, agent: false }), req, res, factHeaders(facts), onFail);
}

/**
 * Write `text` (a request head) and `head` to `upstream` once it is `ready`, then pipe the bytes
 * both ways with `socket`. `onFail` runs when `upstream` fails before it was ready (the owner is
 * unreachable), before any byte went back to the client, so the caller can still refuse; after
 * that, either side closing closes the other.
 */
export function splice(upstream: Duplex, ready: 'connect' | 'secureConnect', text: string, socket: Duplex, head: Buffer, onFail: () => void, onReady: () => void): void {
  let connected = false;
  upstream.once(ready, () => {
    connected = true;
    onReady();
    upstream.write(text);
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  upstream.on('error', () => {
    if (!connected) onFail();
    else socket.destroy();
  });
  // Only a relay that connected owns the client socket; before that, onFail answers it.
  upstream.on('close', () => {
    if (connected) socket.destroy();
  });
  socket.on('close', () => upstream.destroy());
}

/**
 * Pipe the request to worker `owner`. `onFail` runs when the owner cannot be reached (it died: its
 * sessions died with it), before any byte went back to the client, so the caller can still refuse.
 */
export function relayResume(dir: string, owner: OwnerId, req: IncomingMessage, socket: Duplex, head: Buffer, facts: RelayedFacts, logger: Logger, onFail: () => void): void {
  const worker = ownerWorker(owner);
  splice(connect(relaySocketPath(dir, worker)), 'connect', requestHead(req, facts), socket, head, onFail, () => {
    logger.info({ event: 'resume_relayed', to_worker: worker }, 'resume passed to the worker holding the session');
  });
}

/**
 * The owner's side: a plain HTTP server on its Unix socket whose upgrades go to `onUpgrade` (the
 * App's upgrade handler in relayed mode) and its plain requests to `onRequest` (file requests). Removes a stale socket file
 * (a previous worker with the same id cannot exist: ids are never reused, but a file may be left
 * by a crash of a whole earlier run in the same directory).
 */
export async function listenRelay(dir: string, self: number, onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const path = relaySocketPath(dir, self);
  try {
    unlinkSync(path);
  } catch {
    // not there: the usual case
  }
  const server = createServer(onRequest);
  server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // exclusive: the worker opens the socket itself. Without it, node:cluster would route this
    // listen through the primary (as for the shared port), which could be shutting down already.
    server.listen({ path, exclusive: true }, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  return server;
}

/** The Unix-socket relay of cluster worker `self` (of cluster node `node`, if any), in the primary's private directory `dir`. */
export function unixRelay(dir: string, self: number, node: string | null, logger: Logger): Relay {
  return {
    self: workerOwner(self, node),
    pass: (owner, req, socket, head, facts, onFail) => relayResume(dir, owner, req, socket, head, facts, logger, onFail),
    passRequest: (owner, req, res, facts, onFail) => relayRequest(dir, owner, req, res, facts, logger, onFail),
    facts: relayedFacts,
    listen: async (onUpgrade, onRequest) => {
      const server = await listenRelay(dir, self, onUpgrade, onRequest);
      return {
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      };
    },
  };
}
