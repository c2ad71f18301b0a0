/** A loopback port free at the time of asking, for a process a test starts (redis-server, sshd, haproxy). */
import { createServer } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => { if (typeof addr === 'object' && addr !== null) resolve(addr.port); else reject(new Error('no port')); });
    });
  });
}
