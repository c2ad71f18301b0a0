import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeOrigin, originAllowed } from '../../src/policy/origin.js';

const normalized: Array<[string, string | null]> = [
  ['https://example.com', 'https://example.com'],
  ['HTTPS://Example.COM', 'https://example.com'],
  ['https://example.com/', 'https://example.com'],
  ['https://example.com:443', 'https://example.com'],
  ['http://example.com:80', 'http://example.com'],
  ['http://example.com:443', 'http://example.com:443'],
  ['https://example.com:8443', 'https://example.com:8443'],
  ['http://[::1]:8080', 'http://[::1]:8080'],
  ['http://127.0.0.1', 'http://127.0.0.1'],
  ['  https://example.com  ', 'https://example.com'],
  ['https://example.com/path', null],
  ['https://example.com/.', null],
  ['https://example.com?', null],
  ['https://example.com/?a=1', null],
  ['https://example.com#x', null],
  ['https://user@example.com', null],
  ['https://user:pw@example.com', null],
  ['ftp://example.com', null],
  ['file:///etc/passwd', null],
  ['null', null],
  ['example.com', null],
  ['', null],
  ['https://', null],
];

for (const [input, expected] of normalized) {
  void test(`normalizeOrigin(${JSON.stringify(input)})`, () => {
    assert.equal(normalizeOrigin(input), expected);
  });
}

const allowed = ['https://app.example.com', 'http://localhost:3000'];

const cases: Array<[string, string | undefined, string | undefined, boolean, readonly string[], boolean]> = [
  ['no Origin (non-browser client)', undefined, 'bridge.example.com', true, [], true],
  ['no Origin, no Host', undefined, undefined, false, [], true],
  ['"null" origin refused', 'null', 'bridge.example.com', true, ['null'], false],
  ['empty origin refused', '', 'bridge.example.com', true, [], false],
  ['garbage origin refused', 'not a url', 'bridge.example.com', true, [], false],
  ['same host, https, no port', 'https://bridge.example.com', 'bridge.example.com', true, [], true],
  ['same host, https, Host with default port', 'https://bridge.example.com', 'bridge.example.com:443', true, [], true],
  ['same host, http, Host with default port', 'http://bridge.example.com', 'bridge.example.com:80', false, [], true],
  ['same host case-insensitive', 'https://Bridge.Example.com', 'BRIDGE.example.COM', true, [], true],
  ['same host, explicit port', 'http://localhost:8080', 'localhost:8080', false, [], true],
  ['same host IPv6', 'http://[::1]:8080', '[::1]:8080', false, [], true],
  ['port mismatch', 'http://localhost:8081', 'localhost:8080', false, [], false],
  ['Host port 443 on plain http is not default', 'http://bridge.example.com', 'bridge.example.com:443', false, [], false],
  ['scheme mismatch: http origin on TLS server', 'http://bridge.example.com', 'bridge.example.com', true, [], false],
  ['scheme mismatch: https origin on plain server', 'https://bridge.example.com', 'bridge.example.com', false, [], false],
  ['foreign origin', 'https://evil.example', 'bridge.example.com', true, [], false],
  ['foreign origin not in list', 'https://evil.example', 'bridge.example.com', true, allowed, false],
  ['allowed origin', 'https://app.example.com', 'bridge.example.com', true, allowed, true],
  ['allowed origin with default port spelled out', 'https://app.example.com:443', 'bridge.example.com', true, allowed, true],
  ['allowed origin with port', 'http://localhost:3000', 'bridge.example.com', true, allowed, true],
  ['allowed list is scheme-exact', 'http://app.example.com', 'bridge.example.com', true, allowed, false],
  ['allowed list is port-exact', 'http://localhost:3001', 'bridge.example.com', true, allowed, false],
  ['missing Host: only the list counts', 'https://bridge.example.com', undefined, true, [], false],
  ['Host with userinfo trick', 'https://good.example', 'evil.example@good.example', true, [], false],
  ['Host with path trick', 'https://good.example', 'good.example/x', true, [], false],
  ['origin with path refused', 'https://bridge.example.com/x', 'bridge.example.com', true, [], false],
  ['subdomain is foreign', 'https://a.bridge.example.com', 'bridge.example.com', true, [], false],
];

for (const [name, origin, host, secure, list, expected] of cases) {
  void test(name, () => {
    assert.equal(originAllowed(origin, host, secure, list), expected);
  });
}
