/**
 * Redis's MONITOR on the cluster row's redis-server, to tell requests from commands: INFO
 * commandstats counts every command executed, those a Lua script runs (redis.call) included, so
 * one EVALSHA that runs five commands counts six. MONITOR prints each command with its source,
 * `[0 127.0.0.1:PORT]` for one a client sent (a request: one round trip, pipelined or not) and
 * `[0 lua]` for one a script ran. The benchmark's own look at Redis (INFO, CONFIG, KEYS,
 * MEMORY, PING) is left out. MONITOR costs Redis CPU, so a monitored window's CPU is not reported.
 */
import { connect } from 'node:net';

export interface Monitored {
  /** Commands nodes sent, by name. */
  requests: Record<string, number>;
  /** Commands scripts ran, by name. */
  scripted: Record<string, number>;
  requestsTotal: number;
  scriptedTotal: number;
}

const OWN = new Set(['info', 'config', 'keys', 'memory', 'ping', 'monitor']);

export interface Monitor { stop(): Promise<Monitored> }

/** Attach MONITOR to the Redis on `port`; resolves once Redis said OK (from then on every command is seen). */
export function monitor(port: number): Promise<Monitor> {
  const out: Monitored = { requests: {}, scripted: {}, requestsTotal: 0, scriptedTotal: 0 };
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    let ok = false;
    sock.setEncoding('utf8');
    sock.on('error', (err) => { if (!ok) reject(err); });
    sock.on('data', (d: string) => {
      buf += d;
      let nl = buf.indexOf('\r\n');
      while (nl !== -1) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        nl = buf.indexOf('\r\n');
        if (!ok) {
          if (line === '+OK') { ok = true; resolve({ stop }); } else { reject(new Error(`MONITOR: ${line}`)); sock.destroy(); }
          continue;
        }
        // +1700000000.123456 [0 127.0.0.1:5555] "evalsha" "..." / [0 lua] "hget" ...
        const m = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
        if (!m) continue;
        const name = (m[2] ?? '').toLowerCase();
        if (OWN.has(name)) continue;
        const scripted = m[1] === 'lua';
        const tally = scripted ? out.scripted : out.requests;
        tally[name] = (tally[name] ?? 0) + 1;
        if (scripted) out.scriptedTotal++; else out.requestsTotal++;
      }
    });
    const stop = (): Promise<Monitored> => new Promise((done) => {
      // What Redis printed before the stop is in the socket already or on its way: a short grace.
      setTimeout(() => { sock.destroy(); done(out); }, 100);
    });
    sock.write('MONITOR\r\n');
  });
}
