import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWsPath } from '../../src/http/ws-path.js';
import { BridgeError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';

function codeOf(path: string): ErrorCode | 'ok' {
  try {
    parseWsPath(path);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof BridgeError, `non-BridgeError for ${path}`);
    return err.code;
  }
}

const accepted: Array<[string, string, number]> = [
  ['/ws/example.com/22', 'example.com', 22],
  ['/ws/Example.COM/22', 'example.com', 22],
  ['/ws/example.com./2222', 'example.com', 2222],
  ['/ws/my_host-1/22', 'my_host-1', 22],
  ['/ws/localhost/1', 'localhost', 1],
  ['/ws/10.0.0.1/65535', '10.0.0.1', 65535],
  ['/ws/127.0.0.1/022', '127.0.0.1', 22],
  ['/ws/::1/22', '::1', 22],
  ['/ws/fe80::1/22', 'fe80::1', 22],
  ['/ws/2001:DB8::1/22', '2001:db8::1', 22],
  ['/ws/[::1]/22', '::1', 22],
  ['/ws/[2001:db8::1]/22', '2001:db8::1', 22],
  ['/ws/%5B::1%5D/22', '::1', 22],
  ['/ws/%3A%3A1/22', '::1', 22],
  ['/ws/exa%6Dple.com/22', 'example.com', 22],
  ['/ws/::ffff:127.0.0.1/22', '::ffff:127.0.0.1', 22],
  [`/ws/${'a'.repeat(63)}.com/22`, `${'a'.repeat(63)}.com`, 22],
  [`/ws/${Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.')}/22`, Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.'), 22],
];

for (const [path, host, port] of accepted) {
  void test(`accepts ${path.slice(0, 60)}`, () => {
    assert.deepEqual(parseWsPath(path), { host, port });
  });
}

const rejected: Array<[string, ErrorCode]> = [
  ['/ws/example.com/0', 'BAD_PORT'],
  ['/ws/example.com/00000', 'BAD_PORT'],
  ['/ws/example.com/65536', 'BAD_PORT'],
  ['/ws/example.com/99999999999999999999', 'BAD_PORT'],
  ['/ws/example.com/abc', 'BAD_PORT'],
  ['/ws/example.com/22a', 'BAD_PORT'],
  ['/ws/example.com/-1', 'BAD_PORT'],
  ['/ws/example.com/%32%32', 'BAD_PORT'],
  ['/ws/example.com/', 'BAD_PATH'],
  ['/ws/example.com', 'BAD_PATH'],
  ['/ws//22', 'BAD_PATH'],
  ['/ws/a/b/22', 'BAD_PATH'],
  ['/ws/example.com/22/', 'BAD_PATH'],
  ['/wsx/example.com/22', 'BAD_PATH'],
  ['/', 'BAD_PATH'],
  ['', 'BAD_PATH'],
  ['/ws/%E0%A4%A/22', 'BAD_PATH'],
  ['/ws/%ZZ/22', 'BAD_PATH'],
  ['/ws/exa%20mple.com/22', 'BAD_PATH'],
  ['/ws/exa mple.com/22', 'BAD_PATH'],
  ['/ws/user@example.com/22', 'BAD_PATH'],
  ['/ws/user%40example.com/22', 'BAD_PATH'],
  ['/ws/example.com%00/22', 'BAD_PATH'],
  ['/ws/example..com/22', 'BAD_PATH'],
  ['/ws/../22', 'BAD_PATH'],
  ['/ws/./22', 'BAD_PATH'],
  ['/ws/.example.com/22', 'BAD_PATH'],
  ['/ws/example.com../22', 'BAD_PATH'],
  ['/ws/%2F/22', 'BAD_PATH'],
  ['/ws/a%2Fb/22', 'BAD_PATH'],
  ['/ws/[example.com]/22', 'BAD_PATH'],
  ['/ws/[127.0.0.1]/22', 'BAD_PATH'],
  ['/ws/[::1/22', 'BAD_PATH'],
  ['/ws/::1]/22', 'BAD_PATH'],
  ['/ws/[]/22', 'BAD_PATH'],
  ['/ws/fe80::1%25eth0/22', 'BAD_PATH'],
  ['/ws/[fe80::1%25eth0]/22', 'BAD_PATH'],
  ['/ws/:::1/22', 'BAD_PATH'],
  ['/ws/example.com:22/22', 'BAD_PATH'],
  ['/ws/0177.0.0.1/22', 'BAD_PATH'],
  ['/ws/2130706433/22', 'BAD_PATH'],
  ['/ws/0x7f.1/22', 'BAD_PATH'],
  ['/ws/256.1.1.1/22', 'BAD_PATH'],
  ['/ws/ex%C3%A4mple.com/22', 'BAD_PATH'],
  [`/ws/${'a'.repeat(64)}.com/22`, 'BAD_PATH'],
  [`/ws/${Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.')}/22`, 'BAD_PATH'],
];

for (const [path, code] of rejected) {
  void test(`rejects ${JSON.stringify(path.slice(0, 60))} with ${code}`, () => {
    assert.equal(codeOf(path), code);
  });
}

void test('BAD_PATH for a bad host carries a detail', () => {
  assert.throws(
    () => parseWsPath('/ws/a@b/22'),
    (err: unknown) => err instanceof BridgeError && err.code === 'BAD_PATH' && typeof err.detail === 'string' && err.detail.length > 0,
  );
  assert.throws(
    () => parseWsPath('/ws/[example.com]/22'),
    (err: unknown) => err instanceof BridgeError && err.detail === 'brackets must enclose an IPv6 address',
  );
});
