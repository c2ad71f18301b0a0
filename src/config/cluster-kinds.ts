/**
 * The value kinds of the cluster options (--cluster-redis, --node-id, --cluster-lease,
 * --cluster-redis-timeout) and their cross-option rules (--cluster-secret-file with them). Kept apart from the option table
 * (./schema.ts), which reads them, so that file stays one screenful of rows.
 */
import { z } from 'zod';
import { parseDuration } from './duration.js';
import type { Config } from './types.js';
import type { Kind } from './schema.js';

/**
 * What a node id may hold: it is part of Redis keys, log lines and the owner prefix of tokens
 * (`NODE~WORKER.`, src/grammar/owner-id.ts), so no spaces, no separators, no `.` and no `~`.
 */
export const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A Redis URL: redis:// or rediss:// (TLS), a host, optionally a user, password, port and database. */
export const redisUrl: Kind<string | null> = {
  schema: z.union([
    z.null(),
    z.string().refine((s) => {
      try {
        const u = new URL(s);
        return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '' && /^\/?\d*$/.test(u.pathname) && u.search === '' && u.hash === '';
      } catch {
        return false;
      }
    }, 'not a redis:// or rediss:// URL'),
  ]),
  unit: 'URL',
  allowed: 'a redis://[user:password@]host[:port][/db] or rediss:// URL',
  isBool: false,
  redact: redactUrl,
};

/**
 * A refused Redis URL as an error message may show it: the password replaced by `***`; a value
 * that does not even parse is not shown at all (it may be a password pasted in the wrong place).
 */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password === '') return raw;
    u.password = '***';
    return u.href;
  } catch {
    return '(not shown: it may hold a password)';
  }
}

export const nodeId: Kind<string | null> = {
  schema: z.union([z.null(), z.string().regex(NODE_ID, 'not a node id')]),
  unit: 'name',
  allowed: '1-64 characters of A-Z a-z 0-9 _ -',
  isBool: false,
};

/** A duration from `minMs` to `maxMs` (whole milliseconds, rounded up). */
export function boundedDuration(minMs: number, maxMs: number, minText: string, maxText: string): Kind<number> {
  return {
    schema: z.union([z.string(), z.number()]).transform((v, ctx) => {
      const fail = (message: string): never => {
        ctx.addIssue({ code: 'custom', message });
        return z.NEVER;
      };
      if (typeof v === 'number') return fail('a duration is a string with a unit, such as "5000ms", not a number');
      let ms: number;
      try {
        ms = Math.ceil(parseDuration(v));
      } catch (err) {
        return fail((err as Error).message);
      }
      if (ms < minMs || ms > maxMs) return fail(`outside ${minText}-${maxText}`);
      return ms;
    }),
    unit: 'duration',
    allowed: `a duration from ${minText} to ${maxText} in Go syntax such as 300ms, 15s`,
    isBool: false,
  };
}

/**
 * The lease is renewed every third of its TTL: a command must be able to time out well within
 * that. The nodes of a cluster check each other's signatures (share links, relayed requests), so
 * they need the keys of one shared keyring file: random keys per process would differ per node.
 */
export function clusterProblem(c: Config): { option: string; value: string; allowed: string } | null {
  if (c.clusterRedisTimeoutMs * 3 > c.clusterLeaseMs) {
    return { option: 'cluster-redis-timeout', value: `${c.clusterRedisTimeoutMs}ms`, allowed: `at most a third of cluster-lease (${c.clusterLeaseMs}ms), the heartbeat interval` };
  }
  if (c.clusterRedis !== null && c.clusterSecretFile === null) {
    return { option: 'cluster-secret-file', value: '', allowed: 'a keyring file when cluster-redis is set: the nodes check each other\'s share links and relayed requests with the keys of one file, the same on every node (docs/scaling.md#keyring)' };
  }
  return null;
}

/** The relay between nodes needs the cluster, and mutual TLS needs a certificate, its key and the CA. */
export function relayProblem(c: Config): { option: string; value: string; allowed: string } | null {
  const files = { 'node-relay-cert': c.nodeRelayCert, 'node-relay-key': c.nodeRelayKey, 'node-relay-ca': c.nodeRelayCa };
  if (c.nodeRelayAddress === null) {
    const set = Object.entries(files).find(([, v]) => v !== null);
    return set === undefined ? null : { option: set[0], value: set[1] ?? '', allowed: 'node-relay-address to be set (it is the relay\'s material)' };
  }
  const shown = `${c.nodeRelayAddress.host}:${c.nodeRelayAddress.port}`;
  if (c.clusterRedis === null) return { option: 'node-relay-address', value: shown, allowed: 'cluster-redis to be set (the nodes find each other there)' };
  const missing = Object.entries(files).find(([, v]) => v === null);
  if (missing !== undefined) return { option: 'node-relay-address', value: shown, allowed: `${missing[0]} to be set as well (the relay is mutual TLS)` };
  return null;
}

/** This node's id when it is a node of a cluster (--cluster-redis), or null for a gateway of one node. */
export function clusterNode(c: Pick<Config, 'clusterRedis' | 'nodeId'>, hostname: string): string | null {
  return c.clusterRedis === null ? null : c.nodeId ?? defaultNodeId(hostname);
}

/** The node id used when --node-id is unset: the host name, with what a node id cannot hold replaced. */
export function defaultNodeId(hostname: string): string {
  const id = hostname.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return id === '' ? 'node' : id;
}
