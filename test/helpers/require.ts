import { accessSync, constants } from 'node:fs';
import type { TestContext } from 'node:test';

/** Absolute path of the OpenSSH daemon the real-sshd tests rely on. */
export const SSHD_PATH = '/usr/sbin/sshd';

/**
 * Gate a test on an external dependency. Locally a missing dependency skips the test
 * (loudly, so nobody mistakes a skip for a pass); under CI (`CI=true`) it fails the
 * test instead, because CI is where these tests must actually run.
 * @returns true when the test may proceed.
 */
export function requireOrSkip(t: TestContext, what: string, available: boolean, hint: string): boolean {
  if (available) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${what} not available (${hint}) — CI must never skip this test`);
  }
  process.stderr.write(`\n*** SKIPPED: ${what} not available (${hint}) — this test runs in CI ***\n\n`);
  t.skip(`${what} not available (${hint})`);
  return false;
}

/** True when `path` exists and this process may execute it. */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The asciinema CLI (Debian package `asciinema`), to check recordings with the reference tool. */
export const ASCIINEMA_PATH = '/usr/bin/asciinema';

export function asciinemaAvailable(): boolean {
  return executable(ASCIINEMA_PATH);
}

/** True when the OpenSSH daemon binary is present and executable. */
export function sshdAvailable(): boolean {
  return executable(SSHD_PATH);
}

/** Redis (Debian package `redis-server`), for cluster admission across nodes. */
export const REDIS_SERVER_PATH = '/usr/bin/redis-server';

export function redisAvailable(): boolean {
  return executable(REDIS_SERVER_PATH);
}

/** HAProxy (Debian package `haproxy`), the load balancer of the multi-node tests (docs/examples/haproxy.cfg). */
export const HAPROXY_PATH = '/usr/sbin/haproxy';

export function haproxyAvailable(): boolean {
  return executable(HAPROXY_PATH);
}

/** nginx (Debian package `nginx`), the reverse proxy of docs/examples/nginx.conf. */
export const NGINX_PATH = '/usr/sbin/nginx';

export function nginxAvailable(): boolean {
  return executable(NGINX_PATH);
}
