import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientIp, UNKNOWN_CLIENT } from '../../src/policy/client-ip.js';
import { CidrSet } from '../../src/grammar/cidr.js';

const trusted = CidrSet.parse(['10.0.0.0/8', '192.168.1.1', 'fd00::/8']);
const none = CidrSet.parse([]);

const cases: Array<[string, string | undefined, string | string[] | undefined, CidrSet, string]> = [
  ['untrusted peer, no header', '203.0.113.5', undefined, trusted, '203.0.113.5'],
  ['spoofed XFF from an untrusted peer is ignored', '203.0.113.5', '1.2.3.4', trusted, '203.0.113.5'],
  ['spoofed XFF ignored when nothing is trusted', '10.0.0.1', '1.2.3.4', none, '10.0.0.1'],
  ['IPv4-mapped peer normalized', '::ffff:203.0.113.5', undefined, trusted, '203.0.113.5'],
  ['IPv4-mapped trusted peer believed', '::ffff:10.0.0.1', '198.51.100.7', trusted, '198.51.100.7'],
  ['IPv6 peer lowercased', '2001:DB8::1', '1.2.3.4', trusted, '2001:db8::1'],
  ['trusted peer, no header', '10.0.0.1', undefined, trusted, '10.0.0.1'],
  ['trusted peer, empty header', '10.0.0.1', '', trusted, '10.0.0.1'],
  ['trusted peer, one hop', '10.0.0.1', '198.51.100.7', trusted, '198.51.100.7'],
  ['chain through two trusted proxies', '10.0.0.1', '198.51.100.7, 192.168.1.1', trusted, '198.51.100.7'],
  ['client-forged left entries are skipped', '10.0.0.1', '6.6.6.6, 198.51.100.7, 10.2.3.4', trusted, '198.51.100.7'],
  ['multiple header values joined', '10.0.0.1', ['6.6.6.6, 198.51.100.7', '10.9.9.9'], trusted, '198.51.100.7'],
  ['garbage right after the peer', '10.0.0.1', '198.51.100.7, not-an-ip', trusted, '10.0.0.1'],
  ['garbage after a trusted hop', '10.0.0.1', 'evil, 10.5.5.5', trusted, '10.5.5.5'],
  ['garbage left of the client is irrelevant', '10.0.0.1', 'garbage, 198.51.100.7', trusted, '198.51.100.7'],
  ['ip:port entry is garbage', '10.0.0.1', '198.51.100.7:1234', trusted, '10.0.0.1'],
  ['all trusted -> left-most', '10.0.0.1', '10.1.1.1, 192.168.1.1, 10.2.2.2', trusted, '10.1.1.1'],
  ['empty entries skipped', '10.0.0.1', '198.51.100.7,, ,', trusted, '198.51.100.7'],
  ['IPv4-mapped XFF entry normalized', '10.0.0.1', '::ffff:198.51.100.7', trusted, '198.51.100.7'],
  ['bracketed IPv6 XFF entry', '10.0.0.1', '[2001:db8::7]', trusted, '2001:db8::7'],
  ['IPv6 trusted proxy', 'fd00::1', '2001:db8::7, fd12::3', trusted, '2001:db8::7'],
  ['undefined peer', undefined, '1.2.3.4', trusted, UNKNOWN_CLIENT],
];

for (const [name, peer, xff, set, expected] of cases) {
  void test(name, () => {
    assert.equal(clientIp(peer, xff, set), expected);
  });
}

void test('undefined peer yields the literal "unknown"', () => {
  assert.equal(UNKNOWN_CLIENT, 'unknown');
});
