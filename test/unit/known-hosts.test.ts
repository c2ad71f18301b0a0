/**
 * The known_hosts parser and matcher against real OpenSSH data: keys made by `ssh-keygen`,
 * hashed lines made by `ssh-keygen -H`, fingerprints compared with `ssh-keygen -lf`, and lines
 * written by `formatEntry` found by `ssh-keygen -F`. Plus hand-written tables for globs,
 * negation, ports, markers and malformed lines.
 */
import { describe, it, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  formatEntry, globMatch, hostMatches, hostPortString, keyTypeOfBlob, lookup, parseKnownHosts, sha256Fingerprint,
  type KnownHostEntry,
} from '../../src/ssh/known-hosts.js';
import { executable, requireOrSkip } from '../helpers/require.js';

const SSH_KEYGEN = '/usr/bin/ssh-keygen';

const keygenAvailable = (): boolean => executable(SSH_KEYGEN);

interface RealKey {
  /** `type base64` from the .pub file. */
  readonly pub: string;
  readonly type: string;
  readonly base64: string;
  readonly blob: Buffer;
  /** What `ssh-keygen -lf` prints as the fingerprint. */
  readonly fingerprint: string;
}

void describe('known_hosts with real OpenSSH data', () => {
  let dir = '';
  const keys: Record<string, RealKey> = {};

  before(() => {
    if (!keygenAvailable()) return;
    dir = mkdtempSync(join(tmpdir(), 'uwsb-kh-'));
    for (const [name, args] of [['ed25519', ['-t', 'ed25519']], ['rsa', ['-t', 'rsa', '-b', '2048']], ['ecdsa', ['-t', 'ecdsa', '-b', '256']], ['ed25519b', ['-t', 'ed25519']]] as const) {
      const file = join(dir, name);
      execFileSync(SSH_KEYGEN, ['-q', ...args, '-N', '', '-C', `test-${name}`, '-f', file], { stdio: 'pipe' });
      const [type = '', base64 = ''] = readFileSync(`${file}.pub`, 'utf8').trim().split(' ');
      const fingerprint = execFileSync(SSH_KEYGEN, ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1] ?? '';
      keys[name] = { pub: `${type} ${base64}`, type, base64, blob: Buffer.from(base64, 'base64'), fingerprint };
    }
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  const ready = (t: TestContext): boolean => requireOrSkip(t, 'ssh-keygen', keygenAvailable(), 'apt-get install openssh-client');
  const key = (name: string): RealKey => {
    const k = keys[name];
    assert.ok(k, `key ${name} generated`);
    return k;
  };

  void it('sha256Fingerprint equals `ssh-keygen -lf` for ed25519, RSA and ECDSA keys', (t) => {
    if (!ready(t)) return;
    for (const name of ['ed25519', 'rsa', 'ecdsa']) {
      const k = key(name);
      assert.match(k.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);
      assert.equal(sha256Fingerprint(k.blob), k.fingerprint, name);
    }
  });

  void it('keyTypeOfBlob reads the type at the start of the blob', (t) => {
    if (!ready(t)) return;
    assert.equal(keyTypeOfBlob(key('ed25519').blob), 'ssh-ed25519');
    assert.equal(keyTypeOfBlob(key('rsa').blob), 'ssh-rsa');
    assert.equal(keyTypeOfBlob(key('ecdsa').blob), 'ecdsa-sha2-nistp256');
    assert.equal(keyTypeOfBlob(Buffer.alloc(3)), null);
    assert.equal(keyTypeOfBlob(Buffer.from([0, 0, 0, 200, 1, 2])), null);
    assert.equal(keyTypeOfBlob(Buffer.from([0, 0, 0, 0])), null);
  });

  void it('plain lines: bare host on port 22, [host]:port on others, comments and the comment field', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const rsa = key('rsa');
    const text = [
      '# a comment',
      '',
      `example.com ${ed.pub} some comment words`,
      `   [10.0.0.5]:2222\t${rsa.pub}\r`,
      '  # indented comment',
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    assert.equal(entries.length, 2);
    assert.equal(entries[0]?.line, 3);
    assert.equal(entries[0]?.fingerprint, ed.fingerprint);
    assert.equal(entries[1]?.line, 4);
    assert.equal(entries[1]?.keyType, 'ssh-rsa');
    assert.equal(lookup(entries, 'example.com', 22, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, 'EXAMPLE.com', 22, ed.type, ed.blob).status, 'match', 'names compare in lower case');
    assert.equal(lookup(entries, 'example.com', 2222, ed.type, ed.blob).status, 'unknown', 'a bare entry is port 22 only');
    assert.equal(lookup(entries, '10.0.0.5', 2222, rsa.type, rsa.blob).status, 'match');
    assert.equal(lookup(entries, '10.0.0.5', 22, rsa.type, rsa.blob).status, 'unknown', '[host]:2222 is not port 22');
    assert.equal(lookup(entries, '10.0.0.5', 2223, rsa.type, rsa.blob).status, 'unknown');
  });

  void it('hashed lines written by `ssh-keygen -H` match their host and port, and nothing else', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const rsa = key('rsa');
    const file = join(dir, 'known_hosts_hashed');
    writeFileSync(file, `example.com ${ed.pub}\n[10.0.0.5]:2222 ${rsa.pub}\n[::1]:2200 ${ed.pub}\n`);
    execFileSync(SSH_KEYGEN, ['-H', '-f', file], { stdio: 'pipe' });
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('example.com') && text.startsWith('|1|'), `hashed by ssh-keygen:\n${text}`);
    const entries = parseKnownHosts(text, file);
    assert.equal(entries.length, 3);
    assert.ok(entries.every((e) => e.hosts.kind === 'hashed'));
    assert.equal(lookup(entries, 'example.com', 22, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, 'Example.COM', 22, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, '10.0.0.5', 2222, rsa.type, rsa.blob).status, 'match');
    assert.equal(lookup(entries, '::1', 2200, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, 'example.org', 22, ed.type, ed.blob).status, 'unknown');
    assert.equal(lookup(entries, '10.0.0.5', 22, rsa.type, rsa.blob).status, 'unknown');
    const other = key('ed25519b');
    const changed = lookup(entries, 'example.com', 22, other.type, other.blob);
    assert.equal(changed.status, 'mismatch');
    assert.ok(changed.status === 'mismatch');
    assert.deepEqual(changed.stored.map((s) => s.fingerprint), [ed.fingerprint]);
  });

  void it('a hashed entry computed by hand: HMAC-SHA1 of `[host]:port` keyed by the salt', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const salt = Buffer.alloc(20, 7);
    const hash = createHmac('sha1', salt).update('[box.lab]:2022').digest();
    const line = `|1|${salt.toString('base64')}|${hash.toString('base64')} ${ed.pub}`;
    const entries = parseKnownHosts(line, 'kh');
    assert.equal(lookup(entries, 'box.lab', 2022, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, 'box.lab', 22, ed.type, ed.blob).status, 'unknown');
  });

  void it('a different key of the same type is a mismatch listing the stored fingerprints; another type is unknown with otherTypes', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const ed2 = key('ed25519b');
    const rsa = key('rsa');
    const entries = parseKnownHosts(`host.a ${ed.pub}\nhost.b ${rsa.pub}\n`, 'kh');
    const mismatch = lookup(entries, 'host.a', 22, ed2.type, ed2.blob);
    assert.ok(mismatch.status === 'mismatch');
    assert.deepEqual(mismatch.stored, [{ keyType: 'ssh-ed25519', fingerprint: ed.fingerprint, source: 'kh', line: 1 }]);
    const other = lookup(entries, 'host.b', 22, ed.type, ed.blob);
    assert.ok(other.status === 'unknown');
    assert.deepEqual(other.otherTypes.map((s) => s.fingerprint), [rsa.fingerprint]);
    const none = lookup(entries, 'host.c', 22, ed.type, ed.blob);
    assert.deepEqual(none, { status: 'unknown', otherTypes: [] });
  });

  void it('several keys for one host: any of them matches (key rotation)', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const ed2 = key('ed25519b');
    const entries = parseKnownHosts(`h ${ed.pub}\nh ${ed2.pub}\n`, 'kh');
    assert.equal(lookup(entries, 'h', 22, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, 'h', 22, ed2.type, ed2.blob).status, 'match');
  });

  void it('@revoked refuses the key for the hosts it names, even when another line trusts it', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const rsa = key('rsa');
    const entries = parseKnownHosts(`good.example ${ed.pub}\n@revoked * ${ed.pub}\n@revoked only.example ${rsa.pub}\nother.example ${rsa.pub}\n`, 'kh');
    assert.equal(entries.filter((e) => e.marker === 'revoked').length, 2);
    assert.equal(lookup(entries, 'good.example', 22, ed.type, ed.blob).status, 'revoked');
    assert.equal(lookup(entries, 'anything', 2222, ed.type, ed.blob).status, 'revoked');
    assert.equal(lookup(entries, 'only.example', 22, rsa.type, rsa.blob).status, 'revoked');
    assert.equal(lookup(entries, 'other.example', 22, rsa.type, rsa.blob).status, 'match', 'a revocation names its hosts');
    // A revoked line is not a stored key: it never makes another key a "mismatch".
    assert.equal(lookup(parseKnownHosts(`@revoked h ${ed.pub}\n`, 'kh'), 'h', 22, key('ed25519b').type, key('ed25519b').blob).status, 'unknown');
  });

  void it('@cert-authority lines are skipped (host certificates are not supported); unknown markers are reported', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const problems: Array<[number, string]> = [];
    const entries = parseKnownHosts(`@cert-authority *.example ${ed.pub}\n@bogus h ${ed.pub}\n`, 'kh', (line, why) => problems.push([line, why]));
    assert.deepEqual(entries, []);
    assert.deepEqual(problems, [[2, 'unknown marker']]);
    assert.equal(lookup(entries, 'a.example', 22, ed.type, ed.blob).status, 'unknown');
  });

  void it('globs, lists and negation', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const table: Array<[string, string, number, boolean]> = [
      ['*.example.com', 'a.example.com', 22, true],
      ['*.example.com', 'example.com', 22, false],
      ['*.example.com', 'a.b.example.com', 22, true],
      ['host?', 'host1', 22, true],
      ['host?', 'host12', 22, false],
      ['a,b,c', 'b', 22, true],
      ['a,b,c', 'd', 22, false],
      ['*.lab,!bad.lab', 'good.lab', 22, true],
      ['*.lab,!bad.lab', 'bad.lab', 22, false],
      ['!bad.lab,*.lab', 'bad.lab', 22, false],
      ['!bad.lab', 'good.lab', 22, false], // a negation alone never matches
      ['[*.lab]:2222', 'x.lab', 2222, true],
      ['[*.lab]:2222', 'x.lab', 22, false],
      ['[10.0.0.*]:*', '10.0.0.9', 2200, true],
      ['10.0.0.*', '10.0.0.9', 2200, false],
      ['*', 'anything', 22, true],
      ['*', 'anything', 2222, true], // * also matches "[anything]:2222"
      ['HOST.Example', 'host.example', 22, true],
    ];
    for (const [patterns, host, port, expected] of table) {
      const [entry] = parseKnownHosts(`${patterns} ${ed.pub}`, 'kh');
      assert.ok(entry, patterns);
      assert.equal(hostMatches(entry.hosts, host, port), expected, `${patterns} vs ${host}:${port}`);
      assert.equal(lookup([entry], host, port, ed.type, ed.blob).status, expected ? 'match' : 'unknown', `${patterns} vs ${host}:${port}`);
    }
  });

  void it('malformed lines are skipped and reported; the rest of the file still counts', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const rsa = key('rsa');
    const problems: Array<[number, string]> = [];
    const text = [
      'onlyhost',
      'host ssh-ed25519',
      'host ssh-ed25519 !!!notbase64!!!',
      `host ssh-rsa ${ed.base64}`, // blob says ssh-ed25519
      `|2|abc|def ${ed.pub}`,
      `|1|c2FsdA==|aGFzaA== ${ed.pub}`, // salt and hash not 20 bytes
      `,,, ${ed.pub}`,
      `good.host ${rsa.pub}`,
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh', (line, why) => problems.push([line, why]));
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.line, 8);
    assert.deepEqual(problems.map(([line]) => line), [1, 2, 3, 4, 5, 6, 7]);
    assert.match(problems[3]?.[1] ?? '', /does not match its key type/);
  });

  void it('formatEntry writes lines that OpenSSH (`ssh-keygen -F`) finds, and that parse back', (t) => {
    if (!ready(t)) return;
    const ed = key('ed25519');
    const rsa = key('rsa');
    const lines = [
      formatEntry('Box.Example', 22, ed.type, ed.base64),
      formatEntry('127.0.0.1', 2222, rsa.type, rsa.base64),
      formatEntry('::1', 2200, ed.type, ed.base64),
      formatEntry('[2001:db8::1]', 22, ed.type, ed.base64),
    ];
    assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['box.example', '[127.0.0.1]:2222', '[::1]:2200', '2001:db8::1']);
    const file = join(dir, 'known_hosts_written');
    writeFileSync(file, `${lines.join('\n')}\n`);
    for (const [query, fp] of [['box.example', ed.fingerprint], ['[127.0.0.1]:2222', rsa.fingerprint], ['[::1]:2200', ed.fingerprint], ['2001:db8::1', ed.fingerprint]] as const) {
      const out = execFileSync(SSH_KEYGEN, ['-F', query, '-l', '-f', file], { encoding: 'utf8' });
      assert.ok(out.includes(fp), `ssh-keygen -F ${query} found it:\n${out}`);
    }
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    assert.equal(lookup(entries, 'box.example', 22, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, '127.0.0.1', 2222, rsa.type, rsa.blob).status, 'match');
    assert.equal(lookup(entries, '::1', 2200, ed.type, ed.blob).status, 'match');
    assert.equal(lookup(entries, '2001:db8::1', 22, ed.type, ed.blob).status, 'match');
  });
});

void describe('known_hosts helpers', () => {
  void it('hostPortString: bare on 22, [host]:port otherwise, lower case', () => {
    assert.equal(hostPortString('Example.com', 22), 'example.com');
    assert.equal(hostPortString('example.com', 2222), '[example.com]:2222');
    assert.equal(hostPortString('::1', 22), '::1');
    assert.equal(hostPortString('::1', 830), '[::1]:830');
  });

  void it('globMatch: * any run, ? one character, everything else literal', () => {
    const table: Array<[string, string, boolean]> = [
      ['abc', 'abc', true], ['abc', 'abd', false], ['', '', true], ['', '*', true], ['a', '', false],
      ['abc', '*', true], ['abc', 'a*', true], ['abc', '*c', true], ['abc', 'a*c', true], ['abc', 'a*b*c', true],
      ['abc', 'a?c', true], ['ac', 'a?c', false], ['abcbc', 'a*bc', true], ['aXbXc', 'a*b*c', true],
      ['abc', 'a**c', true], ['[h]:22', '[h]:2?', true], ['a.b', 'a?b', true], ['ab', 'a.b', false],
      ['x'.repeat(200), `${'*x'.repeat(20)}y`, false],
    ];
    for (const [text, glob, expected] of table) assert.equal(globMatch(text, glob), expected, `${text} ~ ${glob}`);
  });

  void it('formatEntry refuses hosts and fields that would change the line', () => {
    assert.throws(() => formatEntry('a b', 22, 'ssh-ed25519', 'AAAA'));
    assert.throws(() => formatEntry('a,b', 22, 'ssh-ed25519', 'AAAA'));
    assert.throws(() => formatEntry('*', 22, 'ssh-ed25519', 'AAAA'));
    assert.throws(() => formatEntry('h\n@revoked', 22, 'ssh-ed25519', 'AAAA'));
    assert.throws(() => formatEntry('h', 0, 'ssh-ed25519', 'AAAA'));
    assert.throws(() => formatEntry('h', 22, 'ssh ed25519', 'AAAA'));
    assert.throws(() => formatEntry('h', 22, 'ssh-ed25519', 'AA AA'));
  });

  void it('entries carry source and line for logs', () => {
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 1)]);
    const entries: KnownHostEntry[] = parseKnownHosts(`\n\nh ssh-ed25519 ${blob.toString('base64')}\n`, '/etc/ssh/ssh_known_hosts');
    assert.equal(entries[0]?.source, '/etc/ssh/ssh_known_hosts');
    assert.equal(entries[0]?.line, 3);
    assert.equal(entries[0]?.fingerprint, sha256Fingerprint(blob));
  });
});
