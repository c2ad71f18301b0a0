/**
 * The `/ws/{host}/{port}` route. Parsing is strict on purpose: the host ends up in a DNS query
 * and in logs, so anything that is not a plain IP literal or DNS name is refused before it can
 * reach the resolver (no userinfo, no NULs, no whitespace, no numeric forms that libc would read
 * as octal or a 32-bit integer).
 */
import { isIP } from 'node:net';
import { BridgeError } from '../errors.js';

/** The seed's route, with the port segment loosened so a non-numeric port reports BAD_PORT. */
const ROUTE = /^\/ws\/([^/]+)\/([^/]+)$/;
const LABEL = /^[A-Za-z0-9_-]{1,63}$/;
const MAX_NAME = 253;
const MAX_PORT = 65535;

/**
 * Split and validate a WebSocket request path (without query string). Throws BridgeError
 * BAD_PATH (shape or host) or BAD_PORT (port not 1-65535). The returned host carries no
 * brackets, so callers can pass it straight to the resolver and use it as the SSH host name.
 */
export function parseWsPath(pathname: string): { host: string; port: number } {
  const match = ROUTE.exec(pathname);
  const rawHost = match?.[1];
  const rawPort = match?.[2];
  if (rawHost === undefined || rawPort === undefined) throw new BridgeError('BAD_PATH');
  const host = parseHost(rawHost);
  return { host, port: parsePort(rawPort) };
}

export function parsePort(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new BridgeError('BAD_PORT', 'port is not a decimal number');
  // Leading zeros are harmless in decimal ("022" is 22); cap the length so Number() stays exact.
  const port = raw.length > 6 ? Infinity : Number(raw);
  if (port < 1 || port > MAX_PORT) throw new BridgeError('BAD_PORT');
  return port;
}

export function parseHost(raw: string): string {
  let host: string;
  try {
    host = decodeURIComponent(raw);
  } catch {
    throw new BridgeError('BAD_PATH', 'host is not valid percent-encoding');
  }
  if (host === '') throw new BridgeError('BAD_PATH', 'host is empty');
  if (host.startsWith('[') || host.endsWith(']')) {
    const inner = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : '';
    if (isIP(inner) !== 6 || inner.includes('%')) {
      throw new BridgeError('BAD_PATH', 'brackets must enclose an IPv6 address');
    }
    return inner.toLowerCase();
  }
  if (host.includes(':')) {
    // Zone ids ("fe80::1%eth0") name a local interface; a remote client has no business choosing one.
    if (isIP(host) !== 6 || host.includes('%')) throw new BridgeError('BAD_PATH', 'host is not a valid IPv6 address');
    return host.toLowerCase();
  }
  if (isIP(host) === 4) return host;
  return parseHostname(host);
}

function parseHostname(host: string): string {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name === '') throw new BridgeError('BAD_PATH', 'host is empty');
  if (name.length > MAX_NAME) throw new BridgeError('BAD_PATH', `host name longer than ${MAX_NAME} characters`);
  const labels = name.split('.');
  for (const label of labels) {
    if (label === '') throw new BridgeError('BAD_PATH', 'host name has an empty label');
    if (label.length > 63) throw new BridgeError('BAD_PATH', 'host name label longer than 63 characters');
    if (!LABEL.test(label)) throw new BridgeError('BAD_PATH', 'host contains characters not allowed in a host name');
  }
  // No top-level domain is numeric. A numeric last label means an IPv4 spelling that isIP()
  // rejected ("0177.0.0.1", "2130706433", "0x7f.1"), which getaddrinfo would still resolve.
  const last = labels[labels.length - 1] ?? '';
  if (/^(\d+|0x[0-9a-f]*)$/i.test(last)) {
    throw new BridgeError('BAD_PATH', 'host looks numeric but is not a dotted-decimal IPv4 address');
  }
  return name.toLowerCase();
}
