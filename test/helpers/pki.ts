/**
 * Throwaway X.509 material for TLS tests, made with the openssl command line (P-256 keys, valid
 * for a day): self-signed server certificates, a CA, and leaf certificates it signs.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  /** PEM certificate file. */
  readonly cert: string;
  /** PEM private key file. */
  readonly key: string;
}

export interface Pki {
  readonly dir: string;
  /** A self-signed certificate for `CN=localhost`, valid for 127.0.0.1 (the server under test). */
  selfSigned(name: string): KeyPair;
  /** A new CA (CN `subject`). */
  ca(name: string, subject?: string): KeyPair;
  /** A client certificate signed by `ca`, with the given subject (`/CN=alice/O=Acme`). */
  client(name: string, ca: KeyPair, subject: string): KeyPair;
  /** A certificate signed by `ca` for both ends of a TLS link (server and client use), as the relay between nodes has. */
  peer(name: string, ca: KeyPair): KeyPair;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-pki-'));
  const paths = (name: string): KeyPair => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });
  return {
    dir,
    selfSigned(name) {
      const p = paths(name);
      openssl(['req', '-x509', ...EC, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', p.key, '-out', p.cert]);
      return p;
    },
    ca(name, subject = `/CN=Test CA ${name}`) {
      const p = paths(name);
      // openssl's default config marks a `req -x509` certificate CA:TRUE.
      openssl(['req', '-x509', ...EC, '-days', '1', '-subj', subject, '-keyout', p.key, '-out', p.cert]);
      return p;
    },
    client(name, ca, subject) {
      return signed(name, ca, subject, 'clientAuth');
    },
    peer(name, ca) {
      return signed(name, ca, `/CN=${name}`, 'serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost');
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };

  /** A leaf certificate signed by `ca`; `usage`: its extended key usage (and any lines after it). */
  function signed(name: string, ca: KeyPair, subject: string, usage: string): KeyPair {
    const p = paths(name);
    const csr = join(dir, `${name}.csr`);
    const ext = join(dir, `${name}.ext`);
    writeFileSync(ext, `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=${usage}\n`);
    openssl(['req', '-new', ...EC, '-subj', subject, '-keyout', p.key, '-out', csr]);
    openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-extfile', ext, '-out', p.cert]);
    return p;
  }
}

/** SHA-256 fingerprint of a PEM certificate file, in Node's `AA:BB:…` form. */
export function fingerprint(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** Read a key pair's files, as TLS client options. */
export function clientOptions(pair: KeyPair): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(pair.cert), key: readFileSync(pair.key) };
}
