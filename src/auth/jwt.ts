/**
 * JWT bridge authentication with `jose`: signature against a PEM public key and/or a JWKS URL, then
 * issuer, audience and expiry (required). Only asymmetric algorithms are accepted, so a public
 * key can never be abused as an HMAC secret. Claims `webssh_targets` / `webssh_users` narrow what
 * the bearer may do, `webssh_admin: true` makes it an operator, `webssh_files: "read"` keeps it from changing
 * files (./identity.ts).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { BridgeError } from '../errors.js';
import { adminFromClaims, filesFromClaims, restrictionsFromClaims, type FilesAccess, type Identity } from './identity.js';
import { AuthSetupError } from './tokens.js';

export const JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Clock skew tolerated on exp/nbf/iat, in seconds. */
const CLOCK_TOLERANCE_S = 30;

export interface JwtOptions {
  readonly jwksUrl: string | null;
  readonly publicKeyFile: string | null;
  readonly issuer: string;
  readonly audience: string;
}

/** Three base64url segments: tells a JWT from an opaque bearer token without parsing it. */
export function looksLikeJwt(credential: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
}

export class JwtVerifier {
  /** Tried in order: the static public key, then the JWKS. */
  readonly #keys: Array<KeyObject | JWTVerifyGetKey> = [];
  readonly #issuer: string;
  readonly #audience: string;

  /** Throws AuthSetupError naming the file when the public key cannot be read. */
  constructor(opts: JwtOptions) {
    this.#issuer = opts.issuer;
    this.#audience = opts.audience;
    if (opts.publicKeyFile !== null) {
      try {
        this.#keys.push(createPublicKey(readFileSync(opts.publicKeyFile)));
      } catch (err) {
        throw new AuthSetupError(`auth-jwt-public-key ${opts.publicKeyFile}: not a readable PEM public key (${(err as Error).message})`);
      }
    }
    if (opts.jwksUrl !== null) {
      this.#keys.push(createRemoteJWKSet(new URL(opts.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 }));
    }
    if (this.#keys.length === 0) throw new AuthSetupError('JWT authentication needs auth-jwt-jwks or auth-jwt-public-key');
  }

  /** The identity a valid token carries; BridgeError otherwise (detail says why, never the token). */
  async verify(token: string): Promise<Identity> {
    let payload: Record<string, unknown> | undefined;
    let failure: unknown;
    for (const key of this.#keys) {
      try {
        const result = typeof key === 'function' ? await jwtVerify(token, key, this.#options()) : await jwtVerify(token, key, this.#options());
        payload = result.payload;
        break;
      } catch (err) {
        failure = err;
        // Only "not this key" moves on to the next key source; anything else is the answer.
        // (JOSENotSupported: the token's algorithm does not fit this key's type, e.g. RS256 against an Ed25519 key.)
        if (!(err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JOSENotSupported)) break;
      }
    }
    if (payload === undefined) throw mapJoseError(failure);
    let restrictions;
    let admin: boolean;
    let files: FilesAccess;
    try {
      restrictions = restrictionsFromClaims(payload);
      admin = adminFromClaims(payload);
      files = filesFromClaims(payload);
    } catch (err) {
      throw new BridgeError('BRIDGE_AUTH_INVALID', (err as Error).message);
    }
    const sub = typeof payload['sub'] === 'string' && payload['sub'] !== '' ? payload['sub'] : 'jwt';
    return { method: 'jwt', subject: sub.slice(0, 128), ...restrictions, admin, files };
  }

  #options(): Parameters<typeof jwtVerify>[2] {
    return {
      issuer: this.#issuer,
      audience: this.#audience,
      algorithms: JWT_ALGORITHMS,
      requiredClaims: ['exp'],
      clockTolerance: CLOCK_TOLERANCE_S,
    };
  }
}

function mapJoseError(err: unknown): BridgeError {
  if (err instanceof errors.JWTExpired) return new BridgeError('BRIDGE_AUTH_INVALID', 'token expired', { cause: err });
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new BridgeError('BRIDGE_AUTH_INVALID', `claim ${err.claim} ${err.reason === 'missing' ? 'missing' : 'not accepted'}`, { cause: err });
  }
  if (err instanceof errors.JWKSTimeout) return new BridgeError('BRIDGE_AUTH_UNAVAILABLE', 'key set fetch timed out', { cause: err });
  if (err instanceof errors.JWSSignatureVerificationFailed) return new BridgeError('BRIDGE_AUTH_INVALID', 'bad signature', { cause: err });
  if (err instanceof errors.JWKSNoMatchingKey) return new BridgeError('BRIDGE_AUTH_INVALID', 'no matching signing key', { cause: err });
  if (err instanceof errors.JOSEAlgNotAllowed) return new BridgeError('BRIDGE_AUTH_INVALID', 'signing algorithm not accepted', { cause: err });
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return new BridgeError('BRIDGE_AUTH_INVALID', 'malformed token', { cause: err });
  if (err instanceof errors.JOSEError) {
    // A failed JWKS fetch (non-200, bad JSON) is our problem, not the bearer's.
    if (err.code === 'ERR_JOSE_GENERIC' || err.code === 'ERR_JWKS_INVALID') return new BridgeError('BRIDGE_AUTH_UNAVAILABLE', 'key set unavailable', { cause: err });
    return new BridgeError('BRIDGE_AUTH_INVALID', 'token not accepted', { cause: err });
  }
  // fetch() network errors while getting the key set.
  return new BridgeError('BRIDGE_AUTH_UNAVAILABLE', 'key set unavailable', { cause: err });
}
