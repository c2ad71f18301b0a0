/**
 * ShareHub with fake sockets: what a joining viewer receives is the screen at some output position
 * followed by exactly the output after it, even when output and other joins arrive while its
 * snapshot is being made. Behaviour only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import xtermHeadless from '@xterm/headless';
import { randomKeyring } from '../../src/auth/keyring.js';
import { loadConfig } from '../../src/config/loader.js';
import type { Config } from '../../src/config/types.js';
import { createLogger } from '../../src/log.js';
import { workerOwner } from '../../src/grammar/owner-id.js';
import { Writable } from 'node:stream';
import { MAX_LINKS, ShareHub } from '../../src/share/share-hub.js';
import { until } from '../helpers/until.js';

const { Terminal } = xtermHeadless;

class FakeWs extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly binary: Buffer[] = [];
  readonly text: unknown[] = [];
  send(data: Buffer | string, opts?: { binary?: boolean }): void {
    if (opts?.binary === true && Buffer.isBuffer(data)) this.binary.push(data);
    else this.text.push(JSON.parse(String(data)));
  }
  close(): void {
    this.readyState = 3;
    this.emit('close');
  }
  terminate(): void {
    this.close();
  }
}

function config(): Config {
  const r = loadConfig(['--ws-ping-interval', '0'], {});
  if (r.kind !== 'config') throw new Error('config');
  return r.config;
}

const quiet = createLogger(false, new Writable({ write: (_c, _e, cb) => cb() }));

function hub(): ShareHub {
  return new ShareHub({
    sessionId: 's1', owner: workerOwner(0), keyring: randomKeyring(), config: config(), logger: quiet, cols: 40, rows: 6,
    about: { username: 'alice', target: 'h:22' }, onViewers: () => undefined,
  });
}

async function screen(bytes: Buffer | string): Promise<string> {
  const term = new Terminal({ cols: 40, rows: 6, scrollback: 0, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(bytes, resolve));
  const lines: string[] = [];
  for (let y = 0; y < 6; y++) lines.push(term.buffer.active.getLine(y)?.translateToString(true) ?? '');
  term.dispose();
  return lines.join('\n');
}

const lines = (from: number, to: number): string => {
  let s = '';
  for (let i = from; i <= to; i++) s += `line ${i}\r\n`;
  return s;
};

void test('output and joins during a snapshot: each viewer gets the screen, then every later byte once', async () => {
  const h = hub();
  const { linkId } = h.createLink(60_000, 'SEED\r\n');
  h.output(Buffer.from(lines(1, 3)));
  const a = new FakeWs();
  h.join(a as unknown as WebSocket, { subject: 'x', clientIp: '127.0.0.1' }, linkId, () => undefined);
  h.output(Buffer.from(lines(4, 5))); // while A's snapshot is pending
  const b = new FakeWs();
  h.join(b as unknown as WebSocket, { subject: 'y', clientIp: '127.0.0.1' }, linkId, () => undefined);
  h.output(Buffer.from(lines(6, 7))); // while both are pending
  await until(() => a.binary.length > 0 && b.binary.length > 0, 'output to both viewers');
  h.output(Buffer.from(lines(8, 9))); // live for both
  const all = `SEED\r\n${lines(1, 9)}`;
  const expected = await screen(all);
  for (const [name, v] of [['A', a], ['B', b]] as const) {
    assert.equal(await screen(Buffer.concat(v.binary)), expected, `viewer ${name}'s screen`);
    const live = Buffer.concat(v.binary.slice(1)).toString('latin1');
    assert.ok(all.endsWith(live), `viewer ${name}: what followed the snapshot is a suffix of the output, no byte twice: ${JSON.stringify(live)}`);
  }
  h.dispose('SHARE_REVOKED');
});

void test('at most MAX_LINKS live links', () => {
  const h = hub();
  for (let i = 0; i < MAX_LINKS; i++) h.createLink(60_000, undefined);
  assert.equal(h.canCreateLink, false);
  h.revoke(undefined);
  assert.equal(h.canCreateLink, true);
  h.dispose('SHARE_REVOKED');
});

