/** The ustar header encoder of the folder download (src/protocol/ustar.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK, paxRecord, tarEnd, tarHeader, tarPadding } from '../../src/protocol/ustar.js';

const field = (b: Buffer, at: number, len: number): string => b.subarray(at, at + len).toString('latin1').replace(/\0.*$/s, '');
const checksum = (b: Buffer): number => {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (b[i] ?? 0);
  return sum;
};

void test('a short ASCII name is one ustar block: name, mode, size, mtime, type, magic, checksum', () => {
  const h = tarHeader({ name: 'top/a.txt', type: 'file', mode: 0o100644, size: 1234, mtime: 1_700_000_000 });
  assert.equal(h.length, BLOCK);
  assert.equal(field(h, 0, 100), 'top/a.txt');
  assert.equal(field(h, 100, 8), '0000644');
  assert.equal(parseInt(field(h, 124, 12), 8), 1234);
  assert.equal(parseInt(field(h, 136, 12), 8), 1_700_000_000);
  assert.equal(String.fromCharCode(h[156] ?? 0), '0');
  assert.equal(h.subarray(257, 265).toString('latin1'), 'ustar\x0000');
  assert.equal(parseInt(field(h, 148, 8), 8), checksum(h));
  assert.equal(h.subarray(148, 156).toString('latin1').slice(6), '\0 ');
});

void test('a directory gets a trailing slash and type 5; a symlink type 2 with its target; sizes 0', () => {
  const d = tarHeader({ name: 'top/sub', type: 'directory', mode: 0o40755, size: 4096, mtime: 0 });
  assert.equal(field(d, 0, 100), 'top/sub/');
  assert.equal(String.fromCharCode(d[156] ?? 0), '5');
  assert.equal(parseInt(field(d, 124, 12), 8), 0);
  const l = tarHeader({ name: 'top/link', type: 'symlink', mode: 0o120777, size: 7, mtime: 0, linkname: '../x' });
  assert.equal(String.fromCharCode(l[156] ?? 0), '2');
  assert.equal(field(l, 157, 100), '../x');
  assert.equal(parseInt(field(l, 124, 12), 8), 0);
});

void test('a PAX record counts its own length', () => {
  for (const value of ['a', 'x'.repeat(90), 'x'.repeat(93), 'x'.repeat(994), 'é✓'.repeat(40)]) {
    const r = paxRecord('path', value);
    const len = Number(r.toString('utf8').split(' ')[0]);
    assert.equal(len, r.length, value.slice(0, 5));
    assert.ok(r.toString('utf8').endsWith(`path=${value}\n`));
  }
});

void test('a long or non-ASCII name goes in a PAX header first; the ustar block holds an ASCII stand-in', () => {
  const long = `top/${'d'.repeat(120)}/${'f'.repeat(150)}`;
  for (const name of [long, 'top/héllo wörld ✓.txt']) {
    const h = tarHeader({ name, type: 'file', mode: 0o644, size: 5, mtime: 1 });
    assert.equal(String.fromCharCode(h[156] ?? 0), 'x');
    const paxSize = parseInt(field(h, 124, 12), 8);
    assert.equal(parseInt(field(h, 148, 8), 8), checksum(h));
    const records = h.subarray(BLOCK, BLOCK + paxSize).toString('utf8');
    assert.ok(records.endsWith(` path=${name}\n`), records);
    const main = h.subarray(BLOCK + Math.ceil(paxSize / BLOCK) * BLOCK);
    assert.equal(main.length, BLOCK);
    assert.match(field(main, 0, 100), /^[\x20-\x7e]+$/);
    assert.equal(parseInt(field(main, 124, 12), 8), 5);
    assert.equal(parseInt(field(main, 148, 8), 8), checksum(main));
  }
});

void test('a size past 8 GiB - 1 goes in a PAX size record', () => {
  const size = 10 * 1024 ** 3;
  const h = tarHeader({ name: 'big', type: 'file', mode: 0o644, size, mtime: 1 });
  assert.equal(String.fromCharCode(h[156] ?? 0), 'x');
  assert.ok(h.subarray(BLOCK, 2 * BLOCK).toString('utf8').includes(` size=${size}\n`));
});

void test('padding and the end blocks', () => {
  assert.equal(tarPadding(0).length, 0);
  assert.equal(tarPadding(1).length, 511);
  assert.equal(tarPadding(512).length, 0);
  assert.equal(tarPadding(513).length, 511);
  assert.deepEqual(tarEnd(), Buffer.alloc(1024));
});

void test('the system tar extracts what the encoder wrote: long and Unicode names, a link, modes, mtimes', (t) => {
  if (spawnSync('tar', ['--version']).status !== 0) {
    t.skip('no tar here');
    return;
  }
  const long = `top/${'n'.repeat(140)}/${'ü'.repeat(60)}.bin`;
  const files: Array<[string, Buffer]> = [['top/empty', Buffer.alloc(0)], ['top/héllo wörld ✓.txt', Buffer.from('hi\n')], [long, Buffer.alloc(700, 7)]];
  const parts: Buffer[] = [tarHeader({ name: 'top', type: 'directory', mode: 0o755, size: 0, mtime: 1_600_000_000 })];
  parts.push(tarHeader({ name: `top/${'n'.repeat(140)}`, type: 'directory', mode: 0o700, size: 0, mtime: 1_600_000_000 }));
  for (const [name, data] of files) parts.push(tarHeader({ name, type: 'file', mode: 0o640, size: data.length, mtime: 1_650_000_000 }), data, tarPadding(data.length));
  parts.push(tarHeader({ name: 'top/link', type: 'symlink', mode: 0o777, size: 0, mtime: 1, linkname: 'héllo wörld ✓.txt' }), tarEnd());
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-ustar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const x = spawnSync('tar', ['-xf', '-', '-C', dir], { input: Buffer.concat(parts) });
  assert.equal(x.status, 0, x.stderr.toString());
  for (const [name, data] of files) {
    assert.deepEqual(readFileSync(join(dir, name)), data, name);
    const st = statSync(join(dir, name));
    assert.equal(st.mode & 0o777, 0o640);
    assert.equal(Math.floor(st.mtimeMs / 1000), 1_650_000_000);
  }
  assert.equal(readlinkSync(join(dir, 'top/link')), 'héllo wörld ✓.txt');
});
