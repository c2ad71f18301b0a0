/**
 * The HTTP(S) server with its timeouts and size limits set, and the listen-address safety rule.
 */
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { isIP } from 'node:net';
import type { Config } from '../config/types.js';
import { tlsEnabled, tlsServerOptions } from './tls.js';

/** Largest request head accepted; an upgrade request is a few hundred bytes. */
const MAX_HEADER_BYTES = 16 * 1024;

/**
 * Throws (naming the file) when TLS is configured and its material cannot be read or used.
 *
 * Timeouts: the request head must arrive within `ws-handshake-timeout` (a slow-header client is
 * cut); a body has no time limit as a whole, since an upload of gigabytes takes as long as the
 * link needs, but a socket on which nothing moves either way for `conn-timeout` is closed (a
 * stalled upload or a download nobody reads). Node turns that idle timer off on an upgrade: a
 * WebSocket (ours, or one relayed to the node holding its session) lives by its pings.
 */
export function createHttpServer(config: Config): Server {
  const tls = tlsEnabled(config);
  const timeout = config.wsHandshakeTimeoutMs;
  const common = {
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout: 0,
    headersTimeout: timeout,
    keepAliveTimeout: 5000,
    // Node checks the head timeout on this period (default 30 s): keep it well under the timeout.
    connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(timeout / 4))),
  };
  const server: Server = tls
    ? createHttps({ ...common, ...tlsServerOptions(config) })
    : createHttp(common);
  server.maxHeadersCount = 64;
  server.timeout = config.connTimeoutMs;
  return server;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Plain HTTP on a reachable address sends passwords in clear text: refuse unless told otherwise. */
export function listenSafetyError(config: Config): string | null {
  if (tlsEnabled(config) || config.insecureHttp || isLoopback(config.serverAddress.host)) return null;
  return `refusing to serve plain HTTP on non-loopback address ${config.serverAddress.host}: SSH passwords would cross the network unencrypted. Give --server-cert and --server-key to enable TLS, put a TLS-terminating proxy in front and listen on 127.0.0.1, or pass --insecure-http to accept the risk.`;
}

/**
 * An SSH gateway anyone can reach and point anywhere is a ready-made scanner and brute-forcer for
 * every SSH server behind it. On a non-loopback address the operator must say which targets are
 * reachable (--allow-targets, or one fixed --target), require bridge authentication (tokens, JWT,
 * a trusted proxy's header or client certificates), or consent to an open gateway
 * (--allow-any-target).
 */
export function openGatewayError(config: Config, authenticated: boolean): string | null {
  if (isLoopback(config.serverAddress.host)) return null;
  if (config.allowTargets.length > 0 || config.target !== null || config.allowAnyTarget || authenticated) return null;
  return `refusing to run an open SSH gateway on non-loopback address ${config.serverAddress.host}: with no --allow-targets list and no gateway authentication, anyone who can reach this address can use the bridge to scan and attack every SSH server it can reach, including internal ones. List the reachable targets with --allow-targets (for example --allow-targets '10.0.0.0/8:22,*.lab.example:22'), pin one server with --target host:port, require gateway authentication (--auth-tokens, --auth-jwt-jwks or --auth-jwt-public-key, --auth-proxy-header, --client-ca), or pass --allow-any-target if an open gateway is intended.`;
}
