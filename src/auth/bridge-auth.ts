/**
 * Bridge authentication: who may use the gateway at all, before any SSH. Off unless configured
 * (tokens, JWT, a trusted proxy's header, or client certificates). A request is authenticated by
 * the first of: `Authorization: Bearer` (a static token, else a JWT), the proxy header when the
 * immediate peer is a trusted proxy, the verified client certificate. The page instead trades
 * one of those for a one-time ticket (./tickets.ts, kept by the Gatekeeper) and presents
 * `?ticket=` on the WebSocket.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Config } from '../config/types.js';
import { BridgeError } from '../errors.js';
import { CidrSet, normalizeIp } from '../grammar/cidr.js';
import { ANONYMOUS, subjectIsAdmin, type AuthMethodName, type Identity } from './identity.js';
import { JwtVerifier, looksLikeJwt } from './jwt.js';
import { AuthSetupError, matchToken, parseTokenFile, type TokenEntry } from './tokens.js';

/** The verified client certificate's subject for a request socket, or null. */
export type CertSubjectFn = (socket: unknown) => string | null;

export type AuthConfig = Pick<Config, 'authTokens' | 'authJwtJwks' | 'authJwtPublicKey' | 'authJwtIssuer' | 'authJwtAudience' | 'authProxyHeader' | 'clientCa' | 'trustedProxies' | 'adminSubjects'>;

/** A proxy user name we are willing to log and match: printable, bounded. */
const PROXY_USER = /^[\x21-\x7e](?:[\x20-\x7e]{0,254}[\x21-\x7e])?$/;

export class BridgeAuth {
  readonly #config: AuthConfig;
  readonly #jwt: JwtVerifier | null;
  readonly #certSubject: CertSubjectFn;
  readonly #trusted: CidrSet;
  #tokens: ReadonlyMap<string, TokenEntry> | null = null;

  /** Throws an Error with a clear message when a token file or key cannot be read. */
  constructor(config: AuthConfig, opts: { certSubject?: CertSubjectFn; trusted?: CidrSet } = {}) {
    this.#config = config;
    this.#trusted = opts.trusted ?? CidrSet.parse(config.trustedProxies);
    this.#certSubject = opts.certSubject ?? (() => null);
    if (config.authTokens !== null) this.#tokens = loadTokens(config.authTokens);
    const jwtKeys = config.authJwtJwks ?? config.authJwtPublicKey;
    this.#jwt = jwtKeys === null || config.authJwtIssuer === null || config.authJwtAudience === null
      ? null
      : new JwtVerifier({ jwksUrl: config.authJwtJwks, publicKeyFile: config.authJwtPublicKey, issuer: config.authJwtIssuer, audience: config.authJwtAudience });
    const methods: Array<Exclude<AuthMethodName, 'none' | 'ticket'>> = [];
    if (this.#tokens !== null) methods.push('token');
    if (this.#jwt !== null) methods.push('jwt');
    if (config.authProxyHeader !== null) methods.push('proxy');
    if (config.clientCa !== null) methods.push('mtls');
    this.methods = Object.freeze(methods);
    this.enabled = methods.length > 0;
  }

  /** The configured methods, in the order they are tried (fixed at start: a reload changes files, not options). */
  readonly methods: ReadonlyArray<Exclude<AuthMethodName, 'none' | 'ticket'>>;
  readonly enabled: boolean;

  /** Re-read the token file; on failure the old tokens stay and the error is thrown. */
  reload(): void {
    if (this.#config.authTokens !== null) this.#tokens = loadTokens(this.#config.authTokens);
  }

  /**
   * The identity of a request, from its headers and socket. The proxy header is believed only
   * when the immediate peer is one of trusted-proxies. Throws BridgeError BRIDGE_AUTH_REQUIRED
   * (nothing presented), BRIDGE_AUTH_INVALID or BRIDGE_AUTH_UNAVAILABLE.
   */
  async authenticate(req: IncomingMessage): Promise<Identity> {
    if (!this.enabled) return ANONYMOUS;
    const authorization = req.headers.authorization;
    if (authorization !== undefined && (this.#tokens !== null || this.#jwt !== null)) {
      const m = /^Bearer[ ]+([\x21-\x7e]+)\s*$/i.exec(authorization);
      if (m?.[1] === undefined) throw new BridgeError('BRIDGE_AUTH_INVALID', 'expected "Authorization: Bearer <credential>"');
      return this.#bearer(m[1]);
    }
    const header = this.#config.authProxyHeader;
    if (header !== null && this.#trusted.has(normalizeIp(req.socket.remoteAddress ?? ''))) {
      // Node joins a repeated header with ", ": look at each copy, so a client-sent copy the
      // proxy failed to strip cannot ride along next to the proxy's own.
      const values = req.headersDistinct[header];
      if (values !== undefined && values.length > 1) throw new BridgeError('BRIDGE_AUTH_INVALID', `${header} sent more than once`);
      const user = values?.[0]?.trim();
      if (user !== undefined && user !== '') {
        if (!PROXY_USER.test(user)) throw new BridgeError('BRIDGE_AUTH_INVALID', `${header} is not a printable user name`);
        return { method: 'proxy', subject: user, targets: null, users: null, admin: this.#adminSubject(user), files: 'write' };
      }
    }
    if (this.#config.clientCa !== null) {
      const subject = this.#certSubject(req.socket);
      if (subject !== null) return { method: 'mtls', subject, targets: null, users: null, admin: this.#adminSubject(subject), files: 'write' };
    }
    throw new BridgeError('BRIDGE_AUTH_REQUIRED');
  }

  /** `--admin-subjects` applies to the proxy header and client certificates (tokens and JWTs say it themselves). */
  #adminSubject(subject: string): boolean {
    return subjectIsAdmin(this.#config.adminSubjects, subject);
  }

  async #bearer(credential: string): Promise<Identity> {
    if (this.#tokens !== null) {
      const entry = matchToken(this.#tokens, credential);
      if (entry !== undefined) return { method: 'token', subject: entry.name, targets: null, users: null, admin: entry.admin, files: entry.files };
    }
    if (this.#jwt !== null && looksLikeJwt(credential)) return this.#jwt.verify(credential);
    throw new BridgeError('BRIDGE_AUTH_INVALID', this.#jwt === null ? 'unknown token' : 'unknown token or malformed JWT');
  }
}

function loadTokens(file: string): ReadonlyMap<string, TokenEntry> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuthSetupError(`auth-tokens ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseTokenFile(text, `auth-tokens ${file}`);
}
