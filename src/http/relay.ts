/**
 * How a resume, a viewer or a file request (./files-route.ts) reaches the process that holds its
 * session when the request arrived somewhere else. The App takes one from its role (a cluster worker injects the Unix-socket relay,
 * src/cluster/resume-relay.ts); one process has none. The relaying side has already run the ban,
 * rate, origin and authentication checks, and hands over what it established.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Identity } from '../auth/identity.js';
import type { OwnerId } from '../grammar/owner-id.js';

/** What the relaying process established about a request. */
export interface RelayedFacts {
  readonly clientIp: string;
  readonly identity: Identity;
  /** Set when another node relayed the request (its relay listener): it may still go on to another worker of this node, never further. */
  readonly via?: 'node';
}

export interface Relay {
  /** This process's owner id: the prefix of the resume tokens and share links it issues. */
  readonly self: OwnerId;
  /**
   * Pass the request to process `owner`. `onFail` runs when the owner cannot be reached, before any
   * byte went back to the client, so the caller can still refuse.
   */
  pass(owner: OwnerId, req: IncomingMessage, socket: Duplex, head: Buffer, facts: RelayedFacts, onFail: () => void): void;
  /**
   * Pass a plain HTTP request (a file request) to process `owner`: its body streams there and the
   * owner's response streams back, with backpressure both ways. `onFail` as for `pass`.
   */
  passRequest(owner: OwnerId, req: IncomingMessage, res: ServerResponse, facts: RelayedFacts, onFail: () => void): void;
  /**
   * Pass the request to process `owner` on another node, whose relay listens at `address` (found
   * in Redis, never taken from the request); absent when this node has no relay to other nodes.
   */
  readonly passNode?: (address: string, owner: OwnerId, req: IncomingMessage, socket: Duplex, head: Buffer, facts: RelayedFacts, onFail: () => void) => void;
  /** A plain HTTP request (a file request) to process `owner` on another node, as `passNode`; absent with no relay to other nodes. */
  readonly passNodeRequest?: (address: string, owner: OwnerId, req: IncomingMessage, res: ServerResponse, facts: RelayedFacts, onFail: () => void) => void;
  /** What the relay between nodes has done (src/cluster/node-relay.ts), when there is one. */
  readonly stats?: () => { readonly out: { readonly ok: number; readonly failed: number }; readonly in: { readonly ok: number; readonly refused: number } };
  /** The facts a relayed request carries, or null when it was not relayed (or they are malformed). */
  facts(req: IncomingMessage): RelayedFacts | null;
  /** Start taking relayed requests, upgrades to `onUpgrade`, plain requests to `onRequest`; resolves once ready. */
  listen(onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void, onRequest: (req: IncomingMessage, res: ServerResponse) => void): Promise<RelayListener>;
}

/** A relay's listener: closing it stops taking relayed requests and cuts those in progress. */
export interface RelayListener {
  /** `host:port` of the listener other nodes dial, when there is one. */
  readonly address?: string | undefined;
  close(): void;
}
