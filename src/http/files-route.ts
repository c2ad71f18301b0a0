/**
 * {base}api/files/...: files on a live session's own SSH connection (docs/protocol.md#files).
 * Exists only with `files-enabled` (404 otherwise, like any unknown path).
 *
 *   GET  list?path=P               the entries of a directory, sorted by name
 *   GET  stat?path=P               one entry
 *   POST mkdir?path=P              a new directory
 *   POST rename?from=A&to=B[&overwrite=1]
 *   POST delete?path=P             a file, a link or an empty directory
 *   POST download-link?path=P      a single-use download URL, valid 60 s
 *   GET  download?t=LINK           the file, streamed (for the browser's download manager); a folder as a tar stream
 *   PUT  upload?path=P[&overwrite=1]  the body, streamed into a temporary file, then renamed
 *
 * Who: every request but `download` carries the session's file token in `X-Files-Token` (asked
 * for over the session's v1 socket, so it stands for the session's gateway identity); `download`
 * carries its single-use link token in the URL instead. Guarded (./guard.ts) like every route
 * that acts for a client: ban and rate first, then no request the browser marks as cross-site or
 * same-site (./cross-site.ts); a page of another site cannot send the custom header without a
 * CORS preflight this server never approves.
 *
 * Under `--workers` the token's owner prefix names the worker holding the session: a request that
 * reached another worker passes the guard there and is then relayed to the owner (./relay.ts,
 * `passRequest`), body and answer streamed; on the owner it enters by `relayed`, which judges
 * only the token (the guard ran where the client is). Relays do not chain: a relayed request for
 * yet another worker, or one that cannot reach its owner, is FILES_WRONG_WORKER.
 *
 * Every transfer is audited (`file_transfer`: the session's audit line, ./../session/
 * session-files.ts), counted in the metrics, and marked in the session's recording.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/types.js';
import { BridgeError, isBridgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { BridgeMetrics } from '../metrics/metrics.js';
import { checkPath, splitTarget } from '../protocol/file-path.js';
import type { BridgeSession } from '../session/bridge-session.js';
import type { SessionDirectory } from '../session/directory.js';
import { filesTokenOwner, verifyFilesToken, type FilesClaims } from '../session/files-token.js';
import { newPassed, type Passed } from '../ssh/sftp.js';
import { contentDisposition } from './content-disposition.js';
import { notCrossSite } from './cross-site.js';
import { refusalHeaders, type Guard, type Refusal } from './guard.js';
import type { Relay, RelayedFacts } from './relay.js';
import type { Owners } from '../manager/owners.js';
import { ANONYMOUS, readOnlyWhy } from '../auth/identity.js';
import type { OwnerId } from '../grammar/owner-id.js';
import { relayRoute, type Hop } from './relay-route.js';
import { SECURITY_HEADERS, sendError, sendJson } from './respond.js';

export const FILES_PATH = '/api/files';
/** The header that carries the file token. */
export const FILES_TOKEN_HEADER = 'x-files-token';
const RESOURCE_POLICY = { 'Cross-Origin-Resource-Policy': 'same-origin' };

/** The operations that change files: refused (FILES_READ_ONLY) to an identity that may only read. */
const WRITES: ReadonlySet<string> = new Set(['upload', 'mkdir', 'rename', 'delete']);

const METHODS: Readonly<Record<string, string>> = {
  list: 'GET', stat: 'GET', mkdir: 'POST', rename: 'POST', delete: 'POST', 'download-link': 'POST', download: 'GET', upload: 'PUT',
};

export interface FilesDeps {
  readonly config: Pick<Config, 'filesMaxUpload' | 'basePath'>;
  readonly directory: Pick<SessionDirectory<BridgeSession>, 'owner' | 'keyring' | 'find'>;
  readonly guard: Guard;
  readonly metrics: Pick<BridgeMetrics, 'observeTransfer'>;
  readonly logger: Logger;
  /** How a request for another worker's (or node's) session reaches it; none in a single process. */
  readonly relay: Pick<Relay, 'passRequest' | 'passNodeRequest' | 'facts'> | undefined;
  /** Where another node's session is (Redis). */
  readonly owners: Pick<Owners, 'ask'>;
}



/** The two entries: a request on this process's port, and one another worker relayed here. */
export interface FilesHandler {
  readonly fromClient: (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => void;
  readonly relayed: (req: IncomingMessage, res: ServerResponse) => void;
}

export function isFilesPath(path: string): boolean {
  return path.startsWith(`${FILES_PATH}/`);
}

/** `?overwrite=1` (or true). */
function overwrite(query: URLSearchParams): boolean {
  const v = query.get('overwrite');
  return v === '1' || v === 'true';
}

export function createFilesHandler(deps: FilesDeps): FilesHandler {
  const { config, directory, guard, logger } = deps;

  const answer = (res: ServerResponse, ip: string) => (r: Refusal): void => {
    logger.info({ event: 'files_refused', code: r.code, detail: r.detail, client_ip: ip }, 'file request refused');
    // An unread request body would keep the connection busy: close after answering.
    sendError(res, r.code, { ...RESOURCE_POLICY, Connection: 'close', ...refusalHeaders(r) }, r.detail);
  };

  /**
   * The guard's step: the token (never logged), its owner, its signature and expiry, its live
   * session; or, for a token of another worker when there is a relay to it, that worker.
   */
  const authorize = (req: IncomingMessage, op: string, query: URLSearchParams, hop: Hop): { session: BridgeSession; claims: FilesClaims } | { relayTo: OwnerId; node: string | null } => {
    const download = op === 'download';
    const raw = download ? query.get('t') : req.headers[FILES_TOKEN_HEADER];
    const token = typeof raw === 'string' ? raw : null;
    if (token === null || token === '') throw new BridgeError('FILES_TOKEN_INVALID', download ? 'no t= in the URL' : 'no X-Files-Token header');
    const owner = filesTokenOwner(token);
    const kind = download ? 'download' : 'files';
    const route = owner === null ? { to: 'here' as const } : relayRoute(owner, directory.owner, hop, { worker: deps.relay !== undefined, node: deps.relay?.passNodeRequest !== undefined });
    if (route.to === 'nowhere') throw new BridgeError('FILES_WRONG_WORKER', route.why);
    if (owner !== null && route.to === 'worker') return { relayTo: owner, node: null };
    if (owner !== null && route.to === 'node') {
      const { node } = route;
      // The nodes share the keyring: a forged or expired token is refused here, before anything is dialed.
      const checked = verifyFilesToken(directory.keyring, token, kind, Date.now());
      if ('error' in checked) throw new BridgeError('FILES_TOKEN_INVALID', checked.error);
      return { relayTo: owner, node };
    }
    const claims = verifyFilesToken(directory.keyring, token, kind, Date.now());
    if ('error' in claims) throw new BridgeError('FILES_TOKEN_INVALID', claims.error);
    const session = directory.find(claims.sessionId);
    if (session === undefined) throw new BridgeError('FILES_TOKEN_INVALID', 'the session ended');
    if (download && !session.files.redeem(claims.nonce ?? '')) throw new BridgeError('FILES_TOKEN_INVALID', 'download link used or expired');
    return { session, claims };
  };

  /** Audit, metrics and the recording marker of one transfer. */
  const finish = (session: BridgeSession, ip: string, direction: 'upload' | 'download', path: string, passed: Passed, result: ErrorCode | 'ok'): string => {
    const sha256 = passed.hash.digest('hex');
    session.files.record({ direction, path, bytes: passed.bytes, sha256, result }, {
      clientIp: ip, subject: session.identity.subject, username: session.username ?? '', target: `${session.target.host}:${session.target.port}`,
    });
    deps.metrics.observeTransfer(direction, result, passed.bytes);
    return sha256;
  };

  const download = async (session: BridgeSession, ip: string, path: string, res: ServerResponse): Promise<void> => {
    const release = session.files.begin();
    const passed = newPassed();
    let result: ErrorCode | 'ok' = 'INTERNAL';
    try {
      const sftp = await session.files.sftp();
      const st = await sftp.stat(path);
      if (st.type === 'directory') {
        // A folder: a tar stream built while it streams (../ssh/sftp-tar.ts); no length, so chunked.
        const top = (await sftp.realpath(path)).split('/').at(-1) || 'root';
        res.writeHead(200, {
          ...SECURITY_HEADERS, ...RESOURCE_POLICY,
          'Content-Type': 'application/x-tar',
          'Content-Disposition': contentDisposition(`${top}.tar`),
        });
        const changed = await sftp.tar(path, top, res, passed, session.files.signal);
        result = changed ? 'FILES_INCOMPLETE' : 'ok';
        return;
      }
      if (st.type !== 'file') throw new BridgeError('FILES_BAD_PATH', `not a regular file or folder (${st.type})`);
      res.writeHead(200, {
        ...SECURITY_HEADERS, ...RESOURCE_POLICY,
        'Content-Type': 'application/octet-stream',
        'Content-Disposition': contentDisposition(st.name),
        'Content-Length': st.size,
      });
      await sftp.download(path, res, passed, session.files.signal);
      result = passed.bytes === st.size ? 'ok' : 'FILES_INCOMPLETE';
    } catch (err) {
      result = isBridgeError(err) ? err.code : 'INTERNAL';
      throw err;
    } finally {
      release();
      finish(session, ip, 'download', path, passed, result);
    }
  };

  const upload = async (session: BridgeSession, ip: string, req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> => {
    const target = splitTarget(path);
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > config.filesMaxUpload) throw new BridgeError('FILES_TOO_LARGE', `Content-Length over ${config.filesMaxUpload} bytes`);
    const release = session.files.begin();
    const passed = newPassed();
    let result: ErrorCode | 'ok' = 'INTERNAL';
    let temp: string | null = null;
    let sha256 = '';
    try {
      const sftp = await session.files.sftp();
      await sftp.upload(target, req, passed, {
        overwrite: overwrite(query), limit: config.filesMaxUpload, signal: session.files.signal,
        onTemp: (p) => {
          session.files.temp(p, temp);
          temp = p;
        },
      });
      result = 'ok';
    } catch (err) {
      result = isBridgeError(err) ? err.code : 'INTERNAL';
      throw err;
    } finally {
      release();
      sha256 = finish(session, ip, 'upload', target.path, passed, result);
    }
    sendJson(res, 201, { path: target.path, bytes: passed.bytes, sha256 }, RESOURCE_POLICY);
  };

  /** A request on this process's port: method, the guard, then the token; another worker's goes there. */
  const fromClient = async (req: IncomingMessage, res: ServerResponse, ip: string, op: string, query: URLSearchParams): Promise<void> => {
    const method = METHODS[op];
    if (method === undefined) {
      sendError(res, 'NOT_FOUND');
      return;
    }
    if (req.method !== method) {
      sendError(res, 'METHOD_NOT_ALLOWED', { Allow: method, Connection: 'close' });
      return;
    }
    // A file token comes from an admitted session: the ban applies, the rate limit of new connections does not.
    const granted = await guard.pass(req, ip, { crossSite: notCrossSite, step: () => Promise.resolve(authorize(req, op, query, 'client')), answer: answer(res, ip), rate: false });
    if (granted === null) return;
    if ('relayTo' in granted) return pass(granted, req, res, { clientIp: ip, identity: ANONYMOUS });
    await serve(req, res, ip, op, query, granted);
  };

  /** To the worker of this node that holds the session, or to its node at the address Redis gives. */
  const pass = async (to: { relayTo: OwnerId; node: string | null }, req: IncomingMessage, res: ServerResponse, facts: RelayedFacts): Promise<void> => {
    const gone = (detail: string) => (): void => guard.refuse(facts.clientIp, { code: 'FILES_WRONG_WORKER', detail }, answer(res, facts.clientIp));
    const relay = deps.relay;
    if (relay === undefined) return gone('no relay here')();
    if (to.node === null) return relay.passRequest(to.relayTo, req, res, facts, gone('the worker holding the session is gone'));
    const where = await deps.owners.ask('locateNode', { node: to.node });
    if (!where.ok) {
      if (where.why === 'unavailable') return guard.refuse(facts.clientIp, { code: 'CLUSTER_UNAVAILABLE' }, answer(res, facts.clientIp));
      return gone(`node ${to.node} is gone`)();
    }
    relay.passNodeRequest?.(where.address, to.relayTo, req, res, facts, gone(`node ${to.node} unreachable`));
  };

  /** What the token grants, for a request that passed its checks. */
  const serve = async (req: IncomingMessage, res: ServerResponse, ip: string, op: string, query: URLSearchParams, granted: { session: BridgeSession; claims: FilesClaims }): Promise<void> => {
    const { session, claims } = granted;
    const files = session.files;
    if (WRITES.has(op) && !files.mayWrite) {
      throw new BridgeError('FILES_READ_ONLY', readOnlyWhy(session.identity));
    }
    switch (op) {
      case 'download':
        return download(session, ip, claims.path ?? '', res);
      case 'upload':
        return upload(session, ip, req, res, checkPath(query.get('path')), query);
      case 'list': {
        const sftp = await files.sftp();
        const dir = await sftp.realpath(checkPath(query.get('path') ?? '.'));
        sendJson(res, 200, { path: dir, entries: await sftp.list(dir) }, RESOURCE_POLICY);
        return;
      }
      case 'stat': {
        const sftp = await files.sftp();
        const path = checkPath(query.get('path'));
        sendJson(res, 200, { path, ...(await sftp.stat(path)) }, RESOURCE_POLICY);
        return;
      }
      case 'mkdir': {
        const target = splitTarget(query.get('path'));
        await (await files.sftp()).mkdir(target.path);
        sendJson(res, 201, { path: target.path }, RESOURCE_POLICY);
        return;
      }
      case 'rename': {
        const from = checkPath(query.get('from'));
        const to = splitTarget(query.get('to'));
        await (await files.sftp()).rename(from, to.path, overwrite(query));
        sendJson(res, 200, { from, to: to.path }, RESOURCE_POLICY);
        return;
      }
      case 'delete': {
        const path = checkPath(query.get('path'));
        await (await files.sftp()).remove(path);
        sendJson(res, 200, { path }, RESOURCE_POLICY);
        return;
      }
      default: {
        // download-link: the path is checked now, the file when it is fetched.
        const path = checkPath(query.get('path'));
        const link = files.link(path);
        sendJson(res, 200, { url: `${config.basePath}api/files/download?t=${link.token}`, expiresInMs: link.expiresInMs }, RESOURCE_POLICY);
      }
    }
  };

  /**
   * A request another worker relayed here: it ran the method check and the guard there, so only
   * the token is judged (never relayed again). The client IP is the relaying worker's word.
   */
  const relayed = async (req: IncomingMessage, res: ServerResponse, facts: RelayedFacts, op: string, query: URLSearchParams): Promise<void> => {
    const granted = authorize(req, op, query, facts.via === 'node' ? 'node' : 'worker');
    if ('relayTo' in granted) return pass(granted, req, res, facts);
    await serve(req, res, facts.clientIp, op, query, granted);
  };

  const failed = (res: ServerResponse, ip: string) => (err: unknown): void => {
    if (res.headersSent) {
      res.destroy(); // failed mid-stream: cut the response, its length says it is short
      return;
    }
    if (isBridgeError(err)) {
      guard.refuse(ip, err, answer(res, ip));
      return;
    }
    logger.error({ err }, 'file request failed');
    sendError(res, 'INTERNAL', { Connection: 'close' });
  };

  return {
    fromClient: (req, res, path, query) => {
      const ip = guard.clientIp(req);
      fromClient(req, res, ip, path.slice(FILES_PATH.length + 1), query).catch(failed(res, ip));
    },
    relayed: (req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.slice(config.basePath.length - 1);
      const facts = deps.relay?.facts(req) ?? null;
      if (facts === null || !isFilesPath(path) || METHODS[path.slice(FILES_PATH.length + 1)] !== req.method) {
        sendError(res, 'BAD_REQUEST', { Connection: 'close' }, 'not a relayed file request');
        return;
      }
      relayed(req, res, facts, path.slice(FILES_PATH.length + 1), url.searchParams).catch(failed(res, facts.clientIp));
    },
  };
}
