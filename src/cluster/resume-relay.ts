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
 * The Unix socket only accepts relayed resumes: the owner's listener treats the two headers as
 * facts (only this user's processes can reach the directory) and refuses anything that is not a
 * resume. Headers of those names sent by a client are dropped before relaying.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
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

/** The request head as the owner must see it: the client's own headers (minus ours) plus the facts. */
function requestHead(req: IncomingMessage, facts: RelayedFacts): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (lower === IP_HEADER || lower === IDENTITY_HEADER) continue;
    lines.push(`${name}: ${raw[i + 1] ?? ''}`);
  }
  lines.push(`${IP_HEADER}: ${facts.clientIp}`);
  lines.push(`${IDENTITY_HEADER}: ${Buffer.from(JSON.stringify(facts.identity)).toString('base64url')}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Pipe the request to worker `owner`. `onFail` runs when the owner cannot be reached (it died: its
 * sessions died with it), before any byte went back to the client, so the caller can still refuse.
 */
export function relayResume(dir: string, owner: OwnerId, req: IncomingMessage, socket: Duplex, head: Buffer, facts: RelayedFacts, logger: Logger, onFail: () => void): void {
  const worker = ownerWorker(owner);
  const upstream = connect(relaySocketPath(dir, worker));
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    logger.info({ event: 'resume_relayed', to_worker: worker }, 'resume passed to the worker holding the session');
    upstream.write(requestHead(req, facts));
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
 * The owner's side: a plain HTTP server on its Unix socket whose upgrades go to `onUpgrade` (the
 * App's upgrade handler in relayed mode). Ordinary requests get 404. Removes a stale socket file
 * (a previous worker with the same id cannot exist: ids are never reused, but a file may be left
 * by a crash of a whole earlier run in the same directory).
 */
export async function listenRelay(dir: string, self: number, onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void): Promise<Server> {
  const path = relaySocketPath(dir, self);
  try {
    unlinkSync(path);
  } catch {
    // not there: the usual case
  }
  const server = createServer((_req, res) => {
    res.writeHead(404).end();
  });
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

/** The Unix-socket relay of cluster worker `self`, in the primary's private directory `dir`. */
export function unixRelay(dir: string, self: number, logger: Logger): Relay {
  return {
    self: workerOwner(self),
    pass: (owner, req, socket, head, facts, onFail) => relayResume(dir, owner, req, socket, head, facts, logger, onFail),
    facts: relayedFacts,
    listen: async (onUpgrade) => {
      const server = await listenRelay(dir, self, onUpgrade);
      return {
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      };
    },
  };
}
