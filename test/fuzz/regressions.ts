/**
 * Reproductions of the defects the fuzzers found, one function each. All are fixed: the live fuzz
 * tests assert each stays fixed, and `run.ts` reports a regression. Each returns null when the
 * bridge behaves, or a description of the failure.
 */
import { Socket, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBridge } from '../helpers/bridge.js';
import { spawnCli } from '../helpers/cli.js';
import { waitUntil } from '../helpers/until.js';

/** The bridge's side of its TCP connections in this process (sockets whose local port is the bridge's). */
export function bridgeSockets(port: number): Socket[] {
  const getHandles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles;
  const handles = typeof getHandles === 'function' ? getHandles.call(process) : [];
  return handles.filter((h): h is Socket => h instanceof Socket && h.localPort === port && h.remotePort !== undefined);
}

/**
 * DEFECT 1, fixed (crash): src/http/routes.ts did `new URL(req.url ?? '/', 'http://localhost')`
 * outside any try in the 'request' listener. A plain request whose target the WHATWG parser
 * rejects against that base (`GET // HTTP/1.1`, `GET //[ HTTP/1.1`, `GET http://[ HTTP/1.1`)
 * throws TypeError ERR_INVALID_URL there: an uncaught exception, and the bridge process exits.
 * Run against the real CLI in a child process, so the crash stays contained.
 */
export async function reproduceUrlCrash(target = '//'): Promise<string | null> {
  const cli = spawnCli(['--server-address', '127.0.0.1:0']);
  try {
    const port = await cli.listening(10_000);
    const s = connect({ port, host: '127.0.0.1' });
    s.on('error', () => undefined);
    s.on('data', () => undefined);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    await Promise.race([new Promise((resolve) => s.once('close', resolve)), sleep(2000)]);
    s.destroy();
    await sleep(300);
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) {
      const stderr = cli.stderr();
      const first = /(TypeError[^\n]*)/.exec(stderr)?.[1] ?? stderr.slice(0, 200);
      return `GET ${target} HTTP/1.1 killed the bridge (exit code ${String(cli.child.exitCode)}): ${first}`;
    }
    return null;
  } finally {
    // Kills the child if it still runs; throws if its output holds a registered test secret.
    await cli.close();
  }
}

/**
 * DEFECT 2, fixed (socket leak, shutdown hang): refusals written by the upgrade handler
 * (src/http/respond.ts rejectUpgrade: BAD_PATH, BAD_PORT, METHOD_NOT_ALLOWED, RATE_LIMITED,
 * ORIGIN_FORBIDDEN, and the seed-mode TARGET_DENIED/DNS_FAILED/LIMIT_* refusals) only
 * `socket.end()` a socket that Node has detached from the HTTP parser (`readableFlowing = null`)
 * and that no timeout covers any more. Then
 *  - `lateBytes`: bytes the client sends after the refusal sit unread in the socket, so its FIN
 *    is never seen: the bridge-side socket stays open forever although the client is gone;
 *  - otherwise: a client that simply never closes keeps the bridge's socket (and fd) forever.
 * Either way App.close() never resolves (http.Server.close waits for that socket).
 */
export async function reproduceRefusedUpgradeLeak(lateBytes: boolean): Promise<string | null> {
  const bridge = await startBridge(['--ws-handshake-timeout', '1s']);
  const s = connect({ port: bridge.port, host: '127.0.0.1', allowHalfOpen: true });
  s.on('error', () => undefined);
  let response = '';
  s.on('data', (d: Buffer) => {
    response += d.toString('latin1');
  });
  try {
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write('GET /not-the-ws-route HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
    if (!(await waitUntil(() => response.includes('\r\n\r\n'), 3000))) return 'no refusal within 3 s';
    if (lateBytes) {
      s.write('bytes after the refusal');
      await sleep(100);
      s.end();
      await Promise.race([new Promise((resolve) => s.once('close', resolve)), sleep(2000)]);
    }
    // Generous: the handshake timeout is 1 s and Node checks it every 250 ms.
    if (!(await waitUntil(() => bridgeSockets(bridge.port).length === 0, 3000))) {
      const left = bridgeSockets(bridge.port).map((x) => `${x.localPort ?? '?'}<-${x.remotePort ?? '?'} ${x.readyState}`).join(', ');
      return `${response.split('\r\n')[0] ?? ''} refusal, then ${lateBytes ? 'late bytes and FIN from a client now gone' : 'a client that keeps its side open'}: the bridge still holds its socket 3 s later (${left})`;
    }
    return null;
  } finally {
    s.destroy();
    for (const x of bridgeSockets(bridge.port)) x.destroy(); // so the bridge can close
    await bridge.close();
  }
}
