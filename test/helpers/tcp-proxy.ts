/**
 * A TCP proxy in front of the bridge, so a test can simulate a network drop: `drop()` resets every
 * proxied connection, `block(true)` resets new ones on accept until `block(false)`, `stall()`
 * silently stops forwarding on every proxied connection (nothing is closed and nothing more gets
 * through either way: packets dropped on the floor, as a dead Wi-Fi or a broken middlebox does).
 * `retarget(port)` sends new connections to another port: one address whose server is replaced
 * (a host that changed its key).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  drop(): void;
  block(on: boolean): void;
  stall(): void;
  /** New connections go to `port` from now on. */
  retarget(port: number): void;
  accepted(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const pairs = new Set<readonly [Socket, Socket]>();
  let blocked = false;
  let accepted = 0;
  let target = targetPort;
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => { /* the other side vanished: that is the point */ });
  };
  const server: Server = createServer((client) => {
    track(client);
    if (blocked) { client.resetAndDestroy(); return; }
    accepted++;
    const upstream = connect(target, '127.0.0.1');
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const pair = [client, upstream] as const;
    pairs.add(pair);
    client.once('close', () => pairs.delete(pair));
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('proxy has no address');
  return {
    port: addr.port,
    drop: () => { for (const s of [...sockets]) s.resetAndDestroy(); },
    block: (on) => { blocked = on; },
    stall: () => {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    retarget: (port) => { target = port; },
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of [...sockets]) s.destroy();
    }),
  };
}
