/**
 * The rules that span several options (TLS needs a certificate and a key, JWT needs an issuer and
 * an audience, ...), checked on the merged values, since the options of one rule may come from
 * different sources (flags, env, file). Kept apart from the option table (./schema.ts).
 */
import { clusterProblem, relayProblem } from './cluster-kinds.js';
import type { Config } from './types.js';

/** A rule spanning several options, found on the merged values. */
export interface CrossProblem {
  readonly option: string;
  readonly value: string;
  readonly allowed: string;
}

/** Runs on merged values: the options of one rule may come from different sources. */
export function crossCheck(c: Config): CrossProblem | null {
  if ((c.serverCert === null) !== (c.serverKey === null)) {
    const [set, unset] = c.serverCert === null ? ['server-key', 'server-cert'] : ['server-cert', 'server-key'];
    return { option: set, value: c.serverCert ?? c.serverKey ?? '', allowed: `${unset} to be set as well (TLS needs both)` };
  }
  if (c.clientCa !== null && c.serverCert === null) {
    return { option: 'client-ca', value: c.clientCa, allowed: 'server-cert and server-key to be set (mutual TLS needs TLS)' };
  }
  const jwt = c.authJwtJwks ?? c.authJwtPublicKey;
  if (jwt !== null && (c.authJwtIssuer === null || c.authJwtAudience === null)) {
    return { option: c.authJwtIssuer === null ? 'auth-jwt-issuer' : 'auth-jwt-audience', value: '', allowed: 'a value: JWT authentication checks both the issuer and the audience' };
  }
  if (jwt === null && (c.authJwtIssuer !== null || c.authJwtAudience !== null)) {
    const [option, value] = c.authJwtIssuer !== null ? ['auth-jwt-issuer', c.authJwtIssuer] : ['auth-jwt-audience', c.authJwtAudience ?? ''];
    return { option, value, allowed: 'auth-jwt-jwks or auth-jwt-public-key to be set (nothing verifies a JWT without a key)' };
  }
  if (c.authProxyHeader !== null && c.trustedProxies.length === 0) {
    return { option: 'auth-proxy-header', value: c.authProxyHeader, allowed: 'trusted-proxies to list the proxy (the header is only believed from it)' };
  }
  if (c.recordDir === null && (c.recordInput || c.recordFilter.length > 0)) {
    const [option, value] = c.recordInput ? ['record-input', 'true'] : ['record-filter', c.recordFilter.join(',')];
    return { option, value, allowed: 'record-dir to be set (nothing is recorded without it)' };
  }
  const relay = relayProblem(c);
  if (relay !== null) return relay;
  const cluster = clusterProblem(c);
  if (cluster !== null) return cluster;
  if (c.healthPath === c.metricsPath) {
    return { option: 'metrics-path', value: c.metricsPath, allowed: 'a path different from health-path' };
  }
  return null;
}
