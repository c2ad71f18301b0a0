/**
 * The relay between nodes (docs/scaling.md#resume-and-view-through-any-node): a resume, a viewer
 * or a file request that reached this node for a session another node holds is passed there over
 * mutual TLS, with the facts this node established (client IP, identity) in a signed header
 * (./relay-facts.ts). The other node's address comes from Redis (src/manager/redis-owners.ts),
 * never from the request.
 *
 * Both ends use one certificate, key and CA (`--node-relay-cert`, `--node-relay-key`,
 * `--node-relay-ca`): the listener requires a client certificate the CA signed, and the dialer
 * checks the listener's certificate against the same CA, not its name (the address comes from
 * Redis, and nodes are often dialed by IP); a private CA for the gateway's nodes is what makes
 * this sound. The listener takes a request only when its facts verify; it then hands it to the
 * App's relayed entry, which may pass it on to another worker of this node, never to another node.
 *
 * Under `--workers` every worker listens on the same address (node:cluster shares it) and
 * announces it; the first announcement registers the node.
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { Keyring } from '../auth/keyring.js';
import type { Config } from '../config/types.js';
import { ownerWorker, ownerNode, type OwnerId } from '../grammar/owner-id.js';
import { rejectUpgrade, sendError } from '../http/respond.js';
import type { RelayedFacts, RelayListener } from '../http/relay.js';
import type { Logger } from '../log.js';
import { FACTS_HEADER, signFacts, verifyFacts } from './relay-facts.js';
import { forwardedHead, forwardRequest, splice } from './resume-relay.js';

/** Longest wait for another node's relay to answer the TLS handshake. */
export const DIAL_TIMEOUT_MS = 3000;

export interface RelayMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

/** Read the relay's PEM files (at start): a file that cannot be read stops the start, naming its option. */
export function loadRelayMaterial(c: Pick<Config, 'nodeRelayCert' | 'nodeRelayKey' | 'nodeRelayCa'>): RelayMaterial {
  const read = (option: string, path: string | null): Buffer => {
    if (path === null) throw new Error(`${option} is required with node-relay-address`);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read ${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  return { cert: read('node-relay-cert', c.nodeRelayCert), key: read('node-relay-key', c.nodeRelayKey), ca: read('node-relay-ca', c.nodeRelayCa) };
}

/** `host:port` as a dialer reads it back (IPv6 in brackets). */
export function relayAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function splitAddress(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const host = m?.[1] ?? m?.[2];
  return host === undefined || m?.[3] === undefined ? null : { host, port: Number(m[3]) };
}

/** What the relay has done since start, for /stats and the metrics. */
export interface NodeRelayStats {
  /** Requests passed to another node: connected, or failed before the other node answered. */
  readonly out: { readonly ok: number; readonly failed: number };
  /** Requests other nodes relayed here: taken, or refused (facts that did not verify). */
  readonly in: { readonly ok: number; readonly refused: number };
}

export class NodeRelay {
  readonly #listen: { readonly host: string; readonly port: number };
  readonly #material: RelayMaterial;
  /** The App's keyring, read at each use: a SIGHUP may have rotated its keys. */
  readonly #keyring: () => Keyring;
  readonly #log: Logger;
  /** The facts of the requests this listener took, verified. */
  readonly #facts = new WeakMap<IncomingMessage, RelayedFacts>();
  readonly #stats = { out: { ok: 0, failed: 0 }, in: { ok: 0, refused: 0 } };

  constructor(listen: { readonly host: string; readonly port: number }, material: RelayMaterial, keyring: () => Keyring, logger: Logger) {
    this.#listen = listen;
    this.#material = material;
    this.#keyring = keyring;
    this.#log = logger;
  }

  stats(): NodeRelayStats {
    return { out: { ...this.#stats.out }, in: { ...this.#stats.in } };
  }

  /** The verified facts of a request this listener took, or null. */
  facts(req: IncomingMessage): RelayedFacts | null {
    return this.#facts.get(req) ?? null;
  }

  /** Pass an upgrade to `owner`, on the node whose relay listens at `address`. */
  /**
   * The TLS options of a dial to `address` (this node's certificate, the CA; names are not
   * checked, see above) and the signed facts of `req`, or null when the address does not parse
   * (then `failed` has run).
   */
  #dial(address: string, req: IncomingMessage, facts: RelayedFacts, failed: () => void): { host: string; port: number; cert: Buffer; key: Buffer; ca: Buffer; checkServerIdentity: () => undefined; signed: string } | null {
    const at = splitAddress(address);
    if (at === null) {
      failed();
      return null;
    }
    const signed = signFacts(this.#keyring(), facts, req.method ?? 'GET', req.url ?? '/', Date.now());
    return { ...at, ...this.#material, checkServerIdentity: () => undefined, signed };
  }

  /** A relay that could not reach `owner`'s node: counted, logged, and `onFail` run. */
  #failed(owner: OwnerId, address: string, onFail: () => void): () => void {
    return () => {
      this.#stats.out.failed++;
      this.#log.warn({ event: 'node_relay_failed', to_node: ownerNode(owner), address }, 'the node holding the session could not be reached');
      onFail();
    };
  }

  pass(address: string, owner: OwnerId, req: IncomingMessage, socket: Duplex, head: Buffer, facts: RelayedFacts, onFail: () => void): void {
    const fail = this.#failed(owner, address, onFail);
    const dial = this.#dial(address, req, facts, fail);
    if (dial === null) return;
    const { signed, ...tls } = dial;
    const upstream = tlsConnect(tls);
    const timer = setTimeout(() => upstream.destroy(new Error('relay dial timed out')), DIAL_TIMEOUT_MS);
    upstream.once('close', () => clearTimeout(timer));
    const text = forwardedHead(req, [[FACTS_HEADER, signed]]);
    const failed = (): void => {
      clearTimeout(timer);
      fail();
    };
    splice(upstream, 'secureConnect', text, socket, head, failed, () => {
      clearTimeout(timer);
      this.#stats.out.ok++;
      this.#log.info({ event: 'node_relayed', to_node: ownerNode(owner), to_worker: ownerWorker(owner) }, 'request passed to the node holding the session');
    });
  }

  /** Pass a plain HTTP request (a file request) to `owner`, on the node whose relay listens at `address`: body and answer streamed. */
  passRequest(address: string, owner: OwnerId, req: IncomingMessage, res: ServerResponse, facts: RelayedFacts, onFail: () => void): void {
    const fail = this.#failed(owner, address, onFail);
    const dial = this.#dial(address, req, facts, fail);
    if (dial === null) return;
    const { signed, ...tls } = dial;
    let counted = false;
    forwardRequest((headers) => {
      const upstream = httpsRequest({ ...tls, method: req.method, path: req.url, headers, agent: false, timeout: DIAL_TIMEOUT_MS });
      upstream.once('timeout', () => upstream.destroy(new Error('relay dial timed out')));
      // The dial is bounded; once the link is up, the transfer takes as long as it moves.
      upstream.once('socket', (socket) => socket.once('secureConnect', () => {
        upstream.setTimeout(0);
        counted = true;
        this.#stats.out.ok++;
      }));
      return upstream;
    }, req, res, [[FACTS_HEADER, signed]], () => {
      // Counted once: a link that was up and then failed before the answer is not a second failure.
      if (counted) this.#stats.out.ok--;
      fail();
    });
    this.#log.debug({ event: 'node_relayed', to_node: ownerNode(owner), to_worker: ownerWorker(owner), kind: 'request' }, 'request passed to the node holding the session');
  }

  /** Listen for other nodes' relayed requests; upgrades to `onUpgrade`, plain requests to `onRequest`, once their facts verify. */
  async listen(onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Promise<RelayListener> {
    const { cert, key, ca } = this.#material;
    const server: Server = createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true });
    const verified = (req: IncomingMessage): RelayedFacts | null => {
      const facts = verifyFacts(this.#keyring(), headerOf(req), req.method ?? '', req.url ?? '', Date.now());
      if ('error' in facts) {
        this.#stats.in.refused++;
        this.#log.warn({ event: 'node_relay_refused', why: facts.error, peer: req.socket.remoteAddress }, 'relayed request refused');
        return null;
      }
      this.#stats.in.ok++;
      this.#facts.set(req, facts);
      return facts;
    };
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (verified(req) === null) rejectUpgrade(socket, 'BAD_REQUEST', 'not a relayed request');
      else onUpgrade(req, socket, head);
    });
    server.on('request', (req, res) => {
      if (verified(req) === null) sendError(res, 'BAD_REQUEST', { Connection: 'close' }, 'not a relayed request');
      else onRequest(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#listen.port, this.#listen.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : this.#listen.port;
    return {
      address: relayAddress(this.#listen.host, port),
      close: () => {
        server.closeAllConnections();
        server.close();
      },
    };
  }
}

function headerOf(req: IncomingMessage): string | undefined {
  const v = req.headers[FACTS_HEADER];
  return typeof v === 'string' ? v : undefined;
}
