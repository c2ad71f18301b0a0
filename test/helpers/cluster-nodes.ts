/**
 * Bridge nodes for the cluster tests, and the tally of what their upgrades came to: `n` in-process bridges on one Redis (each its own
 * `--node-id`, gw-1, gw-2, ...: the server names of docs/examples/haproxy.cfg, which ./haproxy.ts
 * runs in front of them; a lease of `leaseMs`; the test's one keyring file: ./keyring.ts), or
 * with node-local state when `redisUrl` is null (the negative controls), with metrics on and the
 * test's own flags (the same for every node, or each its own). Returns once every node holds its
 * lease (so it admits); each node is closed after the test.
 */
import type { TestContext } from 'node:test';
import { startBridge, type BridgeHandle } from './bridge.js';
import { keyringFlags } from './keyring.js';
import { until } from './until.js';
import type { TestWs } from './ws-client.js';

/** What an upgrade came to: an open socket, or a refusal's code. */
export interface Admitted {
  readonly ws?: TestWs | undefined;
  readonly code?: string | undefined;
}

/** How many upgrades were admitted and how many refused, by code. */
export function tally(outcomes: readonly Admitted[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) {
    const k = o.ws !== undefined ? 'admitted' : (o.code ?? '?');
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Close every admitted socket and wait for each close. */
export async function closeAll(outcomes: readonly Admitted[]): Promise<void> {
  await Promise.all(outcomes.map(async (o) => {
    if (o.ws === undefined) return;
    o.ws.close();
    await o.ws.closed;
  }));
}

/**
 * The lease of most cluster tests: long enough that a loaded machine (a test process busy for a
 * second) never fences a node by accident, short enough that a heartbeat (every 2 s) comes soon.
 */
export const STEADY_LEASE_MS = 6000;

/** `flags`: the same for every node, or each node's own (`node` counts from 1, as the node ids do). */
export async function startNodes(t: TestContext, n: number, redisUrl: string | null, flags: readonly string[] | ((node: number) => readonly string[]) = [], leaseMs = STEADY_LEASE_MS): Promise<BridgeHandle[]> {
  const nodes: BridgeHandle[] = [];
  for (let i = 0; i < n; i++) {
    const own = typeof flags === 'function' ? flags(i + 1) : flags;
    const cluster = redisUrl === null ? [] : ['--cluster-redis', redisUrl, '--node-id', `gw-${i + 1}`, '--cluster-lease', `${leaseMs}ms`, ...(own.includes('--cluster-secret-file') ? [] : keyringFlags(t))];
    const bridge = await startBridge([...cluster, '--metrics-enabled', '--host-key-policy', 'accept-new-insecure', ...own]);
    t.after(() => bridge.close());
    nodes.push(bridge);
  }
  if (redisUrl !== null) await until(() => nodes.every((b) => b.app.manager.stats().cluster?.valid === true), 'every node to hold its lease');
  return nodes;
}
