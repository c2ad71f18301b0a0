/**
 * Reference side C (BENCH_RELAY=1): the least a WebSocket-to-SSH relay can do, as its own
 * process: read the v1 auth frame, open an ssh2 shell, pipe bytes both ways. No policy, limits,
 * flow control, metrics or logging. Its echo latency is the floor for any separate-process
 * bridge on this machine, which tells bridge overhead apart from the cost of the extra hop.
 * Usage: node dist/bench/relay.js <sshd-port>; prints the port it listens on.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as tcpConnect } from 'node:net';
import ssh2 from 'ssh2';
import { WebSocketServer } from 'ws';

const sshPort = Number(process.argv[2]);
const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false, handleProtocols: () => 'webssh-bridge.v1' });

wss.on('connection', (ws) => {
  ws.once('message', (data) => {
    const a = JSON.parse((data as Buffer).toString('utf8')) as { username: string; password: string; cols: number; rows: number };
    const client = new ssh2.Client();
    const sock = tcpConnect({ host: '127.0.0.1', port: sshPort, noDelay: true });
    const end = (): void => { client.end(); sock.destroy(); ws.terminate(); };
    client.on('error', end);
    sock.on('error', end);
    ws.on('close', () => client.end());
    client.on('ready', () => {
      client.shell({ term: 'xterm-256color', cols: a.cols, rows: a.rows, width: 0, height: 0 }, (err, ch) => {
        if (err !== undefined && err !== null) { end(); return; }
        ws.send(JSON.stringify({ type: 'ready' }));
        ch.on('data', (d: Buffer) => ws.send(d, { binary: true }));
        ch.on('close', () => ws.close(1000));
        ws.on('message', (d, isBinary) => { if (isBinary) ch.write(d); });
      });
    });
    sock.once('connect', () => client.connect({ sock, username: a.username, password: a.password, hostVerifier: () => true }));
  });
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
