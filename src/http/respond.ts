/**
 * Writing responses: JSON bodies with the security headers every response carries, and HTTP
 * rejections written straight onto a socket that asked for an upgrade.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERRORS, httpBody, type ErrorCode } from '../errors.js';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export function sendText(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/**
 * Headers a status implies: a 401 names the scheme that would work (RFC 9110 section 11.6.1); a
 * 503 says when to come back (a caller's own Retry-After wins).
 */
function impliedHeaders(code: ErrorCode): Record<string, string> {
  const status = ERRORS[code].http;
  if (status === 401) return { 'WWW-Authenticate': 'Bearer realm="webssh-bridge"' };
  if (status === 503) return { 'Retry-After': '5' };
  return {};
}

export function sendError(res: ServerResponse, code: ErrorCode, headers: Record<string, string> = {}, detail?: string): void {
  sendJson(res, ERRORS[code].http, JSON.parse(httpBody(code, detail)), { ...impliedHeaders(code), ...headers });
}

/** Refuse a request (an upgrade, or one the HTTP parser rejected) with a JSON response and close the socket. */
export function rejectUpgrade(socket: Duplex, code: ErrorCode, detail?: string, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const status = ERRORS[code].http;
  const body = httpBody(code, detail);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries({ ...SECURITY_HEADERS, ...impliedHeaders(code), ...headers }).map(([k, v]) => `${k}: ${v}`),
  ];
  // After 'upgrade' nothing reads this socket any more, so a peer's FIN would never be seen and
  // the socket (and the server's close()) would wait forever: cut it once the answer is flushed.
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
