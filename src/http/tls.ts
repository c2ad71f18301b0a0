/**
 * TLS material: the server certificate chain, its key and (for mutual TLS) the client CA bundle,
 * read from the files the config names, checked one by one so an error names the file at fault,
 * and turned into the secure-context options of the HTTPS server. `reloadTls` swaps them into a
 * running server (SIGHUP) without touching established connections; on any error the server
 * keeps its current certificate. `peerCertificateSubject` names a verified client certificate.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import { Server as TlsServer, TLSSocket, createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Config } from '../config/types.js';

/** A TLS file that cannot be read or used; the message names the option and the file. */
export class TlsMaterialError extends Error {
  override readonly name = 'TlsMaterialError';
}

/** TLS is on when both the certificate and the key are configured. */
/** What TLS reads of the configuration. */
export type TlsConfig = Pick<Config, 'serverCert' | 'serverKey' | 'clientCa'>;

export function tlsEnabled(config: TlsConfig): boolean {
  return config.serverCert !== null && config.serverKey !== null;
}

/** What the secure context is built from: re-read in full on every (re)load. */
export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  /** Client CA bundle; present only with mutual TLS. */
  readonly ca?: Buffer;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

type Files = { readonly cert: Buffer; readonly key: Buffer; readonly ca: Buffer | undefined };

function readPem(path: string, option: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsMaterialError(`cannot read ${option} file ${path}: ${describe(err)}`);
  }
}

async function readPemAsync(path: string, option: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new TlsMaterialError(`cannot read ${option} file ${path}: ${describe(err)}`);
  }
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate in a PEM bundle must parse, and there must be at least one. */
function checkCertificates(pem: Buffer, path: string, option: string): void {
  const blocks = pem.toString('latin1').match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new TlsMaterialError(`invalid ${option} file ${path}: no PEM certificate in it`);
  blocks.forEach((block, i) => {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new TlsMaterialError(`invalid ${option} file ${path}: certificate ${i + 1} does not parse: ${describe(err)}`);
    }
  });
}

interface TlsPaths { readonly cert: string; readonly key: string; readonly ca: string | null }

function tlsPaths(config: TlsConfig): TlsPaths {
  if (config.serverCert === null || config.serverKey === null) throw new TlsMaterialError('TLS is not configured (server-cert and server-key)');
  return { cert: config.serverCert, key: config.serverKey, ca: config.clientCa };
}

/**
 * Read and check the configured files. Throws a TlsMaterialError naming the file (and the
 * option) that cannot be read or parsed, or both files when the key does not fit the certificate.
 */
export function loadTlsMaterial(config: TlsConfig): TlsMaterial {
  const paths = tlsPaths(config);
  return checkMaterial(paths, {
    cert: readPem(paths.cert, 'server-cert'),
    key: readPem(paths.key, 'server-key'),
    ca: paths.ca === null ? undefined : readPem(paths.ca, 'client-ca'),
  });
}

/** loadTlsMaterial without blocking the event loop on the reads (for reloads). */
export async function loadTlsMaterialAsync(config: TlsConfig): Promise<TlsMaterial> {
  const paths = tlsPaths(config);
  const [cert, key, ca] = await Promise.all([
    readPemAsync(paths.cert, 'server-cert'),
    readPemAsync(paths.key, 'server-key'),
    paths.ca === null ? undefined : readPemAsync(paths.ca, 'client-ca'),
  ]);
  return checkMaterial(paths, { cert, key, ca });
}

function checkMaterial(paths: TlsPaths, files: Files): TlsMaterial {
  const { cert, key, ca } = files;
  checkCertificates(cert, paths.cert, 'server-cert');
  try {
    createPrivateKey(key);
  } catch (err) {
    throw new TlsMaterialError(`invalid server-key file ${paths.key}: not a usable unencrypted PEM private key: ${describe(err)}`);
  }
  if (ca !== undefined && paths.ca !== null) checkCertificates(ca, paths.ca, 'client-ca');
  const material: TlsMaterial = ca === undefined ? { cert, key } : { cert, key, ca };
  try {
    createSecureContext(secureContextOptions(material));
  } catch (err) {
    throw new TlsMaterialError(`server-cert file ${paths.cert} and server-key file ${paths.key} cannot be used together: ${describe(err)}`);
  }
  return material;
}

/** Secure-context options: the material, TLS 1.2 or later, the server's cipher order. */
export function secureContextOptions(material: TlsMaterial): SecureContextOptions {
  const opts: SecureContextOptions = { cert: material.cert, key: material.key, minVersion: 'TLSv1.2', honorCipherOrder: true };
  if (material.ca !== undefined) opts.ca = material.ca;
  return opts;
}

/**
 * Options for `https.createServer`: the secure context, plus, with a client CA, a demand for a
 * client certificate that the CA signed (a handshake without one fails before any HTTP).
 */
export function tlsServerOptions(config: TlsConfig): SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean } {
  const material = loadTlsMaterial(config);
  const mutual = material.ca !== undefined;
  return { ...secureContextOptions(material), requestCert: mutual, rejectUnauthorized: mutual };
}

/**
 * Re-read the certificate, key and client CA and use them for every new TLS connection;
 * established connections (and the sessions on them) keep going. On any error this throws
 * (naming the file) before touching the server, which keeps its current context. Whether a
 * client certificate is demanded at all is fixed at start: reload changes material, not mode.
 */
export async function reloadTls(server: HttpServer | TlsServer, config: TlsConfig): Promise<void> {
  if (!(server instanceof TlsServer)) throw new Error('cannot reload TLS: the server does not speak TLS');
  const material = await loadTlsMaterialAsync(config);
  server.setSecureContext(secureContextOptions(material));
}

/**
 * The identity in a verified client certificate: its subject CN, or the whole subject
 * (`O=Acme, OU=ops`) when it has no CN. Null unless `socket` is a TLS socket whose peer
 * presented a certificate that verified against the client CA (`authorized === true`).
 */
export function peerCertificateSubject(socket: unknown): string | null {
  if (!(socket instanceof TLSSocket) || socket.authorized !== true) return null;
  const cert = socket.getPeerCertificate();
  // Without a peer certificate Node returns an empty object (or null once the socket is gone).
  const subject = (cert as { subject?: Record<string, string | string[] | undefined> } | null)?.subject;
  if (subject === undefined || subject === null || typeof subject !== 'object') return null;
  const cn = subject.CN;
  // A repeated attribute comes as an array; the last CN is the most specific one.
  const name = Array.isArray(cn) ? cn[cn.length - 1] : cn;
  if (typeof name === 'string' && name !== '') return name;
  const parts = Object.entries(subject).flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x) => `${k}=${x}`)));
  return parts.length > 0 ? parts.join(', ') : null;
}
