/**
 * Plain HTTP routes: seed-shaped /health, liveness /healthz, readiness /readyz, Prometheus
 * /metrics and the seed's JSON metrics at /stats (both only when metrics are enabled, since they
 * list client addresses). Everything is a snapshot read at request time. The page's routes
 * (config.json, api/ticket, api/recordings) live under the base path.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolve } from 'node:path';
import type { BridgeAuth } from '../auth/bridge-auth.js';
import type { Config } from '../config/types.js';
import { isBridgeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ConnectionManager } from '../manager/connection-manager.js';
import type { ClusterSlots } from '../manager/admission.js';
import type { SlotLimits } from '../manager/ledger.js';
import type { ClusterStats } from '../manager/stats.js';
import type { BridgeMetrics } from '../metrics/metrics.js';
import { isFilesPath, type FilesHandler } from './files-route.js';
import { RecordingStore } from '../record/store.js';
import type { Guard } from './guard.js';
import { createRecordingsHandler, isRecordingsPath } from './recordings-route.js';
import { SECURITY_HEADERS, sendError, sendJson, sendText } from './respond.js';
import { appPath, type StaticSite } from './static.js';
import { createTicketHandler, TICKET_PATH } from './ticket-route.js';
import { tlsEnabled } from './tls.js';

export interface RouteDeps {
  readonly config: Config;
  readonly manager: ConnectionManager;
  readonly site: StaticSite;
  readonly version: string;
  readonly auth: BridgeAuth;
  /** The guarded entry of the routes that act for a client (api/ticket, api/recordings). */
  readonly guard: Guard;
  readonly logger: Logger;
  /** The whole gateway's figures: this process's, or under --workers every worker's via the primary. */
  readonly view: StatsView;
  /** The api/files routes (./files-route.ts); null when files-enabled is off (a 404). */
  readonly files: FilesHandler | null;
}

export interface StatsView {
  stats(): Promise<ClusterStats>;
  metrics(): Promise<{ contentType: string; text: string }>;
}

/** The StatsView of a single process. */
export function localView(manager: ConnectionManager, metrics: BridgeMetrics): StatsView {
  return {
    stats: async () => ({ stats: manager.stats(), gate: await manager.gateSnapshot(), workers: 1, lostSessions: 0 }),
    metrics: async () => ({ contentType: metrics.registry.contentType, text: await metrics.registry.metrics() }),
  };
}

const WS_PREFIX = /^\/ws\//;

export function createRequestHandler(deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { config, manager, site, view } = deps;
  const routes = new Map<string, (res: ServerResponse) => void | Promise<void>>();
  routes.set('/healthz', (res) => sendJson(res, 200, { status: 'ok' }));
  // 503 from the first moment of a stop: during the ready delay (--server-shutdown-ready-delay)
  // new sessions are still admitted (`admitting`), so a load balancer can move them away first.
  routes.set('/readyz', (res) =>
    manager.leaving ? sendJson(res, 503, { status: 'draining', admitting: !manager.draining }) : sendJson(res, 200, { status: 'ready' }));
  if (config.healthEnabled) {
    routes.set(config.healthPath, async (res) => {
      const { stats: s, gate } = await view.stats();
      sendJson(res, 200, {
        // This process's stop (its ready delay included): the health of the instance that answers.
        status: manager.leaving ? 'draining' : 'healthy',
        timestamp: Math.floor(Date.now() / 1000),
        active_sessions: gate.open,
        total_sessions: s.total,
        version: deps.version,
      });
    });
  }
  if (config.metricsEnabled) {
    routes.set(config.metricsPath, async (res) => {
      const m = await view.metrics();
      sendText(res, 200, m.contentType, m.text);
    });
    routes.set('/stats', async (res) => {
      // With --cluster-redis, the cluster's slots per node too (Redis, via the primary under --workers).
      const [cluster, nodes] = await Promise.all([view.stats(), manager.gate.admission.ask('nodes', {})]);
      sendJson(res, 200, statsBody(config, cluster, nodes));
    });
  }
  // What the page needs to know before it connects.
  const pageConfig = {
    fixedTarget: config.target, version: deps.version, basePath: config.basePath,
    auth: { required: deps.auth.enabled, methods: deps.auth.methods },
    ticketPath: TICKET_PATH.slice(1),
    // The recordings view can work: recording is on, and so is the gateway authentication it needs.
    recordings: config.recordDir !== null && deps.auth.enabled,
    files: config.filesEnabled,
  };
  // Only exists when gateway authentication is on (a 404 otherwise).
  const ticket = deps.auth.enabled ? createTicketHandler({ config, guard: deps.guard, tickets: manager.gate.tickets, auth: deps.auth, logger: deps.logger }) : null;
  // Only exists with --record-dir (a 404 otherwise); refuses everyone while gateway authentication is off.
  const recordings = config.recordDir === null
    ? null
    : createRecordingsHandler({ store: RecordingStore.fromConfig(resolve(config.recordDir), config), guard: deps.guard, auth: deps.auth, logger: deps.logger });

  const files = deps.files;
  // Over TLS, tell browsers to never try plain HTTP again (a year; subdomains are the operator's call).
  const hsts = tlsEnabled(config) ? 'max-age=31536000' : undefined;

  return (req, res) => {
    if (hsts !== undefined) res.setHeader('Strict-Transport-Security', hsts);
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendError(res, 'BAD_REQUEST'); // e.g. `GET //[` : the URL parser refuses the target
      return;
    }
    const fullPath = url.pathname;
    if (config.basePath !== '/' && fullPath === config.basePath.slice(0, -1)) {
      res.writeHead(308, { ...SECURITY_HEADERS, Location: `${config.basePath}${url.search}`, 'Content-Length': 0 });
      res.end();
      return;
    }
    const path = appPath(fullPath, config.basePath);
    if (ticket !== null && path === TICKET_PATH) {
      ticket(req, res);
      return;
    }
    if (recordings !== null && isRecordingsPath(path)) {
      recordings(req, res, path, url.searchParams);
      return;
    }
    if (files !== null && isFilesPath(path)) {
      files.fromClient(req, res, path, url.searchParams);
      return;
    }
    const route = routes.get(fullPath) ?? routes.get(path);
    const isPage = route === undefined && (site.has(path) || path === '/config.json' || path === '/');
    if (route === undefined && !isPage) {
      sendError(res, WS_PREFIX.test(path) ? 'UPGRADE_REQUIRED' : 'NOT_FOUND');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendError(res, 'METHOD_NOT_ALLOWED', { Allow: 'GET, HEAD' });
      return;
    }
    if (route !== undefined) {
      // A figure that cannot be read (the cluster's, with Redis down) is answered with its code.
      Promise.resolve(route(res)).catch((err: unknown) => sendError(res, isBridgeError(err) ? err.code : 'INTERNAL'));
    } else if (path === '/config.json') {
      sendJson(res, 200, pageConfig);
    } else if (!site.serve(path, req, res)) {
      sendText(res, 503, 'text/plain; charset=utf-8', 'webssh-bridge: the web page is not built; run `npm run build`. WebSocket route: /ws/{host}/{port}.\n');
    }
  };
}

/**
 * The seed bridge's /metrics JSON, plus what the seed could not say (rejections, per target). Slots
 * come from the gate's ledger (with --cluster-redis, the cluster's, from Redis); `nodes` adds the
 * `cluster` block: this node's own slots and the cluster's, per node.
 */
export function statsBody(config: SlotLimits, cluster: ClusterStats, nodes: ClusterSlots | null = null): Record<string, unknown> {
  const { stats: s, gate } = cluster;
  return {
    connections: {
      active_sessions: gate.open,
      detached_sessions: s.detached,
      viewers: s.viewers,
      resumes: s.resumes,
      total_sessions: s.total,
      successful_sessions: s.successful,
      failed_sessions: s.failed,
      host_connections: gate.perClient,
      target_connections: gate.perTarget,
      max_connections: config.connMaxTotal,
      max_per_host: config.connMaxPerHost,
      max_per_target: config.connMaxPerTarget,
    },
    limiter: gate.limiter,
    auth_ban: gate.authBan,
    tickets: { outstanding: gate.tickets },
    workers: cluster.workers,
    lost_sessions: cluster.lostSessions,
    rejections: s.rejections,
    routes: s.routes,
    outcomes: s.outcomes,
    bytes: { to_ssh: s.bytesToSsh, to_client: s.bytesToClient },
    buffered: { bytes: s.buffered, max_session: s.bufferedMax },
    draining: s.draining,
    ...(nodes === null ? {} : { cluster: clusterBody(nodes) }),
    timestamp: Math.floor(Date.now() / 1000),
  };
}

/** /stats' `cluster` block: which node answers, its own slots and the cluster's, and every node's. */
function clusterBody(c: ClusterSlots): Record<string, unknown> {
  return {
    node: c.node,
    incarnation: c.incarnation,
    sessions: { own: c.own, cluster: c.total },
    nodes: c.nodes.map((n) => ({ node: n.node, incarnation: n.incarnation, sessions: n.slots, lease_expires_in_ms: n.leaseExpiresInMs })),
    unlisted_nodes: c.unlisted,
  };
}
