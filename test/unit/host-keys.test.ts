/**
 * The host key store and policy: the policy table cell by cell, the HOST_KEY_CHANGED texts and
 * their close-reason size, name vs resolved-address matching, key type preference, and atomic,
 * concurrent appends to a real known_hosts file that OpenSSH (`ssh-keygen -F`) then reads; with a
 * cluster (an in-memory one with Redis's answers), when it is asked, how its keys count, and that
 * it fails closed.
 */
import { executable } from '../helpers/require.js';
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BridgeError, closeReason } from '../../src/errors.js';
import { changedError, decideHostKey, HostKeyStore, type HostKeyPolicy } from '../../src/ssh/host-keys.js';
import { lookup, parseKnownHosts, sha256Fingerprint, type LookupResult } from '../../src/ssh/known-hosts.js';
import type { SharedFound, SharedHostKey, SharedHostKeys, SharedOutcome, SharedServer } from '../../src/ssh/shared-host-keys.js';

/** An ed25519 public key blob (SSH wire format), made in-process. */
function ed25519Blob(): Buffer {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const str = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

const A = ed25519Blob();
const B = ed25519Blob();
const C = ed25519Blob();
const line = (host: string, blob: Buffer): string => `${host} ssh-ed25519 ${blob.toString('base64')}`;

let dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'uwsb-hk-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

const keygenAvailable = (): boolean => executable('/usr/bin/ssh-keygen');

void describe('decideHostKey: the policy table', () => {
  const fp = sha256Fingerprint(A);
  const base = { canAsk: true, compatAcceptNew: false, keyType: 'ssh-ed25519', fingerprint: fp };
  const stored = { keyType: 'ssh-ed25519', fingerprint: sha256Fingerprint(B), source: 'kh', line: 1 };
  const match: LookupResult = lookup(parseKnownHosts(line('h', A), 'kh'), 'h', 22, 'ssh-ed25519', A);
  const unknown: LookupResult = { status: 'unknown', otherTypes: [] };
  const mismatch: LookupResult = { status: 'mismatch', stored: [stored] };
  const revoked: LookupResult = lookup(parseKnownHosts(`@revoked * ssh-ed25519 ${A.toString('base64')}`, 'kh'), 'h', 22, 'ssh-ed25519', A);
  const policies: HostKeyPolicy[] = ['strict', 'tofu', 'accept-new-insecure'];

  void it('a known key is accepted under every policy, without storing it again', () => {
    assert.equal(match.status, 'match');
    for (const policy of policies) {
      for (const canAsk of [true, false]) assert.deepEqual(decideHostKey(match, { ...base, policy, canAsk }), { action: 'accept', store: false, why: 'known' });
    }
  });

  void it('a changed key is HOST_KEY_CHANGED under every policy, with both fingerprints; never a question', () => {
    for (const policy of policies) {
      for (const canAsk of [true, false]) {
        for (const compatAcceptNew of [true, false]) {
          const d = decideHostKey(mismatch, { ...base, policy, canAsk, compatAcceptNew });
          assert.ok(d.action === 'refuse', policy);
          assert.equal(d.error.code, 'HOST_KEY_CHANGED');
          assert.equal(d.error.detail, `stored ${stored.fingerprint} presented ${fp}`);
        }
      }
    }
  });

  void it('keys of another type stored but none of this type: refused as changed (types shown)', () => {
    const other: LookupResult = { status: 'unknown', otherTypes: [{ ...stored, keyType: 'ssh-rsa' }] };
    for (const policy of policies) {
      const d = decideHostKey(other, { ...base, policy });
      assert.ok(d.action === 'refuse');
      assert.equal(d.error.code, 'HOST_KEY_CHANGED');
      assert.equal(d.error.detail, `stored ${stored.fingerprint} (ssh-rsa) presented ${fp} (ssh-ed25519)`);
    }
  });

  void it('a revoked key is HOST_KEY_REJECTED under every policy', () => {
    assert.equal(revoked.status, 'revoked');
    for (const policy of policies) {
      const d = decideHostKey(revoked, { ...base, policy, compatAcceptNew: true });
      assert.ok(d.action === 'refuse');
      assert.equal(d.error.code, 'HOST_KEY_REJECTED');
      assert.match(d.error.detail ?? '', /revoked/);
    }
  });

  void it('unknown key: strict refuses, tofu asks v1 and refuses seed unless compat, insecure accepts without storing', () => {
    const strict = decideHostKey(unknown, { ...base, policy: 'strict' });
    assert.ok(strict.action === 'refuse');
    assert.equal(strict.error.code, 'HOST_KEY_UNKNOWN');
    assert.ok(strict.error.detail?.includes(fp));
    assert.deepEqual(decideHostKey(unknown, { ...base, policy: 'tofu', canAsk: true }), { action: 'ask' });
    assert.deepEqual(decideHostKey(unknown, { ...base, policy: 'tofu', canAsk: true, compatAcceptNew: true }), { action: 'ask' });
    const seed = decideHostKey(unknown, { ...base, policy: 'tofu', canAsk: false });
    assert.ok(seed.action === 'refuse');
    assert.equal(seed.error.code, 'HOST_KEY_UNKNOWN');
    assert.match(seed.error.detail ?? '', /compat-accept-new-host-keys/);
    assert.deepEqual(decideHostKey(unknown, { ...base, policy: 'tofu', canAsk: false, compatAcceptNew: true }), { action: 'accept', store: true, why: 'compat' });
    assert.equal(decideHostKey(unknown, { ...base, policy: 'strict', canAsk: false, compatAcceptNew: true }).action, 'refuse', 'compat is a tofu thing');
    for (const canAsk of [true, false]) {
      assert.deepEqual(decideHostKey(unknown, { ...base, policy: 'accept-new-insecure', canAsk }), { action: 'accept', store: false, why: 'insecure' });
    }
  });

  void it('the close reasons fit 123 bytes and keep the presented fingerprint whole; the error message keeps everything', () => {
    const two = changedError([stored, { ...stored, fingerprint: sha256Fingerprint(C) }], fp, 'ssh-ed25519');
    assert.equal(two.message, `host key changed: stored ${stored.fingerprint}, ${sha256Fingerprint(C)} presented ${fp}`);
    for (const err of [two, changedError([stored], fp, 'ssh-ed25519')]) {
      const reason = closeReason(err.code, err.reasonDetail ?? err.detail);
      assert.ok(Buffer.byteLength(reason) <= 123, reason);
      assert.equal(reason, `HOST_KEY_CHANGED: host key changed: presented ${fp} differs from stored`);
    }
    const strict = decideHostKey(unknown, { ...base, policy: 'strict' });
    assert.ok(strict.action === 'refuse');
    assert.equal(closeReason(strict.error.code, strict.error.reasonDetail), `HOST_KEY_UNKNOWN: host key not known: presented ${fp}`);
  });

  void it('BridgeError keeps reasonDetail out of the message and cause', () => {
    const err = new BridgeError('HOST_KEY_UNKNOWN', 'long', { reasonDetail: 'short' });
    assert.equal(err.message, 'host key not known: long');
    assert.equal(err.reasonDetail, 'short');
    assert.equal('cause' in err, false);
  });
});

void describe('HostKeyStore', () => {
  void it('missing files are empty; a file that cannot be read stops the start', () => {
    const dir = tempDir();
    const store = HostKeyStore.load({ knownHosts: join(dir, 'nope'), systemKnownHosts: join(dir, 'missing', 'nope') });
    assert.equal(store.entries().length, 0);
    assert.throws(() => HostKeyStore.load({ knownHosts: dir, systemKnownHosts: null }), /cannot read known hosts file/);
    assert.throws(() => HostKeyStore.load({ knownHosts: null, systemKnownHosts: dir }), /cannot read known hosts file/);
  });

  void it('reads both files: the system file trusts, the known-hosts file trusts; a revocation in either wins', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'system'), `${line('sys.example', A)}\n@revoked * ssh-ed25519 ${C.toString('base64')}\n`);
    writeFileSync(join(dir, 'known'), `${line('mine.example', B)}\n${line('[bad.example]:2222', C)}\n`);
    const store = HostKeyStore.load({ knownHosts: join(dir, 'known'), systemKnownHosts: join(dir, 'system') });
    const q = (host: string, port: number, key: Buffer): string => store.verify({ host, port, keyType: 'ssh-ed25519', key }).status;
    assert.equal(q('sys.example', 22, A), 'match');
    assert.equal(q('mine.example', 22, B), 'match');
    assert.equal(q('mine.example', 22, A), 'mismatch');
    assert.equal(q('bad.example', 2222, C), 'revoked');
    assert.equal(q('new.example', 22, A), 'unknown');
  });

  void it('matches on the requested name; the resolved address counts only when the name is not known at all', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'known'), `${line('[10.0.0.5]:2222', A)}\n${line('[named.example]:2222', B)}\n`);
    const store = HostKeyStore.load({ knownHosts: join(dir, 'known'), systemKnownHosts: null });
    const v = (host: string, key: Buffer, address?: string): { status: string; via: string } => {
      const r = store.verify({ host, port: 2222, keyType: 'ssh-ed25519', key, ...(address === undefined ? {} : { address }) });
      return { status: r.status, via: r.via };
    };
    assert.deepEqual(v('alias.example', A, '10.0.0.5'), { status: 'match', via: 'address' });
    assert.deepEqual(v('alias.example', A), { status: 'unknown', via: 'name' });
    assert.deepEqual(v('alias.example', C, '10.0.0.5'), { status: 'mismatch', via: 'address' });
    // The name is known: it decides, even when the address would say otherwise.
    assert.deepEqual(v('named.example', B, '10.0.0.5'), { status: 'match', via: 'name' });
    assert.deepEqual(v('named.example', A, '10.0.0.5'), { status: 'mismatch', via: 'name' });
  });

  void it('a revocation under the resolved address wins even when the name trusts the key', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'known'), `${line('good.example', A)}\n@revoked 10.0.0.9 ssh-ed25519 ${A.toString('base64')}\n`);
    const store = HostKeyStore.load({ knownHosts: join(dir, 'known'), systemKnownHosts: null });
    assert.equal(store.verify({ host: 'good.example', port: 22, address: '10.0.0.9', keyType: 'ssh-ed25519', key: A }).status, 'revoked');
  });

  void it('preferredAlgorithms puts the key types known for the host first', () => {
    const dir = tempDir();
    const rsaBlob = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), Buffer.from([0, 0, 0, 1, 3, 0, 0, 0, 2, 0, 0xc1])]);
    writeFileSync(join(dir, 'known'), `rsa.example ssh-rsa ${rsaBlob.toString('base64')}\n${line('[ed.example]:2222', A)}\n`);
    const store = HostKeyStore.load({ knownHosts: join(dir, 'known'), systemKnownHosts: null });
    assert.equal(store.preferredAlgorithms('nothing.example', 22), undefined);
    const rsa = store.preferredAlgorithms('rsa.example', 22);
    assert.deepEqual(rsa?.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.ok(rsa?.includes('ssh-ed25519'), 'the other defaults follow');
    assert.equal(new Set(rsa).size, rsa?.length, 'no duplicates');
    assert.equal(store.preferredAlgorithms('ed.example', 2222)?.[0], 'ssh-ed25519');
    assert.equal(store.preferredAlgorithms('alias', 22, 'rsa.example')?.[0], 'rsa-sha2-512', 'falls back to the address');
  });

  void it('without a file, accepted keys live in memory', async () => {
    const store = HostKeyStore.load({ knownHosts: null, systemKnownHosts: null });
    assert.equal(await store.accept('m.example', 2222, 'ssh-ed25519', A), 'memory');
    assert.equal(store.verify({ host: 'm.example', port: 2222, keyType: 'ssh-ed25519', key: A }).status, 'match');
    assert.equal(store.verify({ host: 'm.example', port: 22, keyType: 'ssh-ed25519', key: A }).status, 'unknown');
    assert.equal(await store.accept('m.example', 2222, 'ssh-ed25519', A), 'present');
    await assert.rejects(store.accept('m.example', 2222, 'ssh-ed25519', B), (err: unknown) => err instanceof BridgeError && err.code === 'HOST_KEY_CHANGED');
  });

  void it('a key another process (a cluster worker) stores is known here at the next verify, without a restart', async () => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    const workerA = HostKeyStore.load({ knownHosts: file, systemKnownHosts: null });
    const workerB = HostKeyStore.load({ knownHosts: file, systemKnownHosts: null });
    assert.equal(workerB.verify({ host: 'shared.example', port: 22, keyType: 'ssh-ed25519', key: A }).status, 'unknown');
    assert.equal(await workerA.accept('shared.example', 22, 'ssh-ed25519', A), 'stored');
    assert.equal(workerB.verify({ host: 'shared.example', port: 22, keyType: 'ssh-ed25519', key: A }).status, 'match');
    assert.deepEqual(workerB.preferredAlgorithms('shared.example', 22)?.[0], 'ssh-ed25519');
    // And a different key stored by A is a changed key for B.
    assert.equal(await workerA.accept('other.example', 22, 'ssh-ed25519', B), 'stored');
    assert.equal(workerB.verify({ host: 'other.example', port: 22, keyType: 'ssh-ed25519', key: C }).status, 'mismatch');
  });

  void it('processes accepting keys into one file at the same time lose none of them (the file lock)', async () => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    const module = new URL('../../src/ssh/host-keys.js', import.meta.url).href;
    // Each child is a cluster worker in miniature: its own store, five accepts as fast as it can.
    const script = `import { HostKeyStore } from ${JSON.stringify(module)};
import { generateKeyPairSync } from 'node:crypto';
const store = HostKeyStore.load({ knownHosts: process.argv[1], systemKnownHosts: null });
const results = await Promise.all([0, 1, 2, 3, 4].map((i) => {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const raw = der.subarray(der.length - 32);
  const name = Buffer.from('ssh-ed25519');
  const blob = Buffer.concat([Buffer.from([0, 0, 0, name.length]), name, Buffer.from([0, 0, 0, 32]), raw]);
  return store.accept('w' + process.argv[2] + '-' + i + '.example', 22, 'ssh-ed25519', blob);
}));
console.log(results.join(','));`;
    const { spawn } = await import('node:child_process');
    const runs = [0, 1, 2, 3].map((w) => new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, file, String(w)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${String(code)}`))));
    }));
    const outputs = await Promise.all(runs);
    assert.deepEqual(outputs, Array(4).fill('stored,stored,stored,stored,stored'));
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 20, 'every accepted key is in the file');
    assert.deepEqual(readdirSync(dir), ['known_hosts'], 'no lock or temp file left');
  });

  void it('accept creates the file, appends a line OpenSSH reads, keeps existing lines and the file mode, leaves no temp file', async (t) => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    const store = HostKeyStore.load({ knownHosts: file, systemKnownHosts: null });
    assert.equal(await store.accept('first.example', 22, 'ssh-ed25519', A), 'stored');
    assert.equal(readFileSync(file, 'utf8'), `${line('first.example', A)}\n`);
    // Someone edits the file meanwhile (no trailing newline) and tightens its mode.
    writeFileSync(file, `# operator note\n${line('first.example', A)}\n${line('op.example', C)}`);
    chmodSync(file, 0o600);
    assert.equal(await store.accept('127.0.0.1', 2222, 'ssh-ed25519', B), 'stored');
    assert.equal(readFileSync(file, 'utf8'), `# operator note\n${line('first.example', A)}\n${line('op.example', C)}\n${line('[127.0.0.1]:2222', B)}\n`);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['known_hosts']);
    assert.equal(store.verify({ host: 'op.example', port: 22, keyType: 'ssh-ed25519', key: C }).status, 'match', 'the index follows the file');
    assert.equal(await store.accept('first.example', 22, 'ssh-ed25519', A), 'present');
    if (keygenAvailable()) {
      const out = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-l', '-f', file], { encoding: 'utf8' });
      assert.ok(out.includes(sha256Fingerprint(B)), out);
    } else {
      t.diagnostic('ssh-keygen missing: OpenSSH read-back skipped');
    }
    // A second store (a restarted bridge) reads what the first wrote.
    const again = HostKeyStore.load({ knownHosts: file, systemKnownHosts: null });
    assert.equal(again.verify({ host: '127.0.0.1', port: 2222, keyType: 'ssh-ed25519', key: B }).status, 'match');
  });

  void it('concurrent accepts of many hosts all land in the file', async () => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    const store = HostKeyStore.load({ knownHosts: file, systemKnownHosts: null });
    const keys = Array.from({ length: 20 }, () => ed25519Blob());
    const results = await Promise.all(keys.map((k, i) => store.accept(`host${i}.example`, 2000 + i, 'ssh-ed25519', k)));
    assert.deepEqual(results, keys.map(() => 'stored'));
    const text = readFileSync(file, 'utf8');
    const entries = parseKnownHosts(text, file);
    assert.equal(entries.length, 20);
    keys.forEach((k, i) => {
      assert.equal(lookup(entries, `host${i}.example`, 2000 + i, 'ssh-ed25519', k).status, 'match', `host${i}`);
      assert.equal(store.verify({ host: `host${i}.example`, port: 2000 + i, keyType: 'ssh-ed25519', key: k }).status, 'match');
    });
  });

  void it('concurrent accepts of two different keys for one host: the first wins, the second is HOST_KEY_CHANGED', async () => {
    const dir = tempDir();
    const store = HostKeyStore.load({ knownHosts: join(dir, 'known_hosts'), systemKnownHosts: null });
    const [first, second] = await Promise.allSettled([store.accept('race.example', 22, 'ssh-ed25519', A), store.accept('race.example', 22, 'ssh-ed25519', B)]);
    assert.deepEqual(first, { status: 'fulfilled', value: 'stored' });
    assert.equal(second?.status, 'rejected');
    assert.equal(parseKnownHosts(readFileSync(join(dir, 'known_hosts'), 'utf8'), 'kh').length, 1);
  });

  void it('a write that fails keeps the key in memory (logged), so the user is not asked again', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'sub'));
    const file = join(dir, 'sub', 'known_hosts');
    const store = HostKeyStore.load({ knownHosts: file, systemKnownHosts: null });
    rmSync(join(dir, 'sub'), { recursive: true }); // the directory vanished: the temp file cannot be created
    assert.equal(await store.accept('w.example', 22, 'ssh-ed25519', A), 'memory');
    assert.equal(store.verify({ host: 'w.example', port: 22, keyType: 'ssh-ed25519', key: A }).status, 'match');
  });
});

/** The cluster's answers as Redis gives them (src/manager/redis-host-keys.ts), in memory: one key per server. */
class FakeCluster implements SharedHostKeys {
  readonly keys = new Map<string, SharedHostKey>();
  readonly finds: SharedServer[] = [];
  readonly shares: SharedHostKey[] = [];
  /** `no`: answers CLUSTER_UNAVAILABLE; `reject`: the request itself fails (a worker's channel gone). */
  down: false | 'no' | 'reject' = false;
  full = false;

  find(s: SharedServer): Promise<SharedFound> {
    this.finds.push(s);
    if (this.down === 'reject') return Promise.reject(new Error('ipc findHostKeys: channel closed'));
    if (this.down === 'no') return Promise.resolve({ ok: false, code: 'CLUSTER_UNAVAILABLE' });
    const keys = [s.host, ...(s.address === null ? [] : [s.address])].flatMap((h) => this.keys.get(`[${h}]:${s.port}`) ?? []);
    return Promise.resolve({ ok: true, keys });
  }

  share(k: SharedHostKey): Promise<SharedOutcome> {
    this.shares.push(k);
    if (this.down === 'reject') return Promise.reject(new Error('ipc shareHostKey: channel closed'));
    if (this.down === 'no') return Promise.resolve({ ok: false, code: 'CLUSTER_UNAVAILABLE' });
    const field = `[${k.host}]:${k.port}`;
    const have = this.keys.get(field);
    if (have !== undefined) return Promise.resolve(have.keyType === k.keyType && have.key === k.key ? { ok: true, outcome: 'present' } : { ok: false, code: 'HOST_KEY_CHANGED', stored: have });
    if (this.full) return Promise.resolve({ ok: false, code: 'NOT_KEPT', why: 'full' });
    this.keys.set(field, k);
    return Promise.resolve({ ok: true, outcome: 'stored' });
  }

  put(host: string, port: number, blob: Buffer, keyType = 'ssh-ed25519'): void {
    this.keys.set(`[${host}]:${port}`, { host, port, keyType, key: blob.toString('base64') });
  }
}

const code = (c: string) => (err: unknown): boolean => err instanceof BridgeError && err.code === c;

void describe('HostKeyStore with a cluster', () => {
  const withCluster = (known = ''): { store: HostKeyStore; cluster: FakeCluster; file: string } => {
    const dir = tempDir();
    const file = join(dir, 'known_hosts');
    if (known !== '') writeFileSync(file, known);
    const cluster = new FakeCluster();
    return { store: HostKeyStore.load({ knownHosts: file, systemKnownHosts: null, shared: cluster }), cluster, file };
  };

  void it('a name the files know is decided by the files alone: the cluster is not asked, so it works with the cluster down', async () => {
    const { store, cluster } = withCluster(`${line('[filed.example]:2222', A)}\n`);
    cluster.down = 'no';
    cluster.put('filed.example', 2222, B); // what the cluster says is not consulted for a name the file knows
    const known = await store.server('filed.example', 2222, '10.0.0.7');
    assert.equal(known.verify('ssh-ed25519', A).status, 'match');
    assert.equal(known.verify('ssh-ed25519', C).status, 'mismatch');
    assert.deepEqual(cluster.finds, [], 'no round trip');
  });

  void it('a name the files do not know: the cluster\'s keys for the name and the address count as lines (match, changed, the type offered first)', async () => {
    const { store, cluster } = withCluster();
    cluster.put('shared.example', 2222, A);
    const known = await store.server('Shared.Example', 2222, '10.0.0.7');
    assert.deepEqual(cluster.finds, [{ host: 'shared.example', port: 2222, address: '10.0.0.7' }], 'one request, name and address, in lower case');
    assert.deepEqual({ ...known.verify('ssh-ed25519', A), entry: undefined }, { status: 'match', entry: undefined, via: 'name' });
    const changed = known.verify('ssh-ed25519', B);
    assert.ok(changed.status === 'mismatch');
    assert.deepEqual(changed.stored, [{ keyType: 'ssh-ed25519', fingerprint: sha256Fingerprint(A), source: 'redis', line: 0 }]);
    const d = decideHostKey(changed, { policy: 'tofu', canAsk: true, compatAcceptNew: false, keyType: 'ssh-ed25519', fingerprint: sha256Fingerprint(B) });
    assert.ok(d.action === 'refuse' && d.error.code === 'HOST_KEY_CHANGED', 'a changed key, never asked');
    assert.equal(known.preferredAlgorithms()?.[0], 'ssh-ed25519');

    // Of another type only: the presented key is unknown with a stored key of another type (refused as changed).
    const rsaBlob = Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-rsa'), Buffer.from([0, 0, 0, 1, 3, 0, 0, 0, 2, 0, 0xc1])]);
    cluster.put('rsa.example', 22, rsaBlob, 'ssh-rsa');
    const rsa = await store.server('rsa.example', 22);
    const other = rsa.verify('ssh-ed25519', A);
    assert.ok(other.status === 'unknown' && other.otherTypes.length === 1);
    assert.deepEqual(rsa.preferredAlgorithms()?.slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'], 'the server is asked for the type the cluster knows');

    // The address vouches when the name is not known anywhere.
    cluster.put('10.0.0.9', 22, C);
    assert.deepEqual((await store.server('alias.example', 22, '10.0.0.9')).verify('ssh-ed25519', C).via, 'address');
    assert.equal((await store.server('nothing.example', 22)).verify('ssh-ed25519', C).status, 'unknown');
  });

  void it('a revocation in a file wins over the cluster\'s key', async () => {
    const { store, cluster } = withCluster(`@revoked * ssh-ed25519 ${A.toString('base64')}\n`);
    cluster.put('rev.example', 22, A);
    assert.equal((await store.server('rev.example', 22)).verify('ssh-ed25519', A).status, 'revoked');
  });

  void it('a name only the cluster could know, with the cluster down: refused CLUSTER_UNAVAILABLE, whether it answers no or cannot be asked', async () => {
    const { store, cluster } = withCluster();
    for (const down of ['no', 'reject'] as const) {
      cluster.down = down;
      await assert.rejects(store.server('new.example', 22), code('CLUSTER_UNAVAILABLE'), down);
    }
    const finds = cluster.finds.length;
    assert.equal(store.localServer('new.example', 22).verify('ssh-ed25519', A).status, 'unknown', 'the local view (accept-new-insecure\'s fallback) asks nobody');
    assert.equal(cluster.finds.length, finds);
  });

  void it('accept tells the cluster before the file: stored there and here; already there (another node) is fine too', async () => {
    const { store, cluster, file } = withCluster();
    assert.equal(await store.accept('[2001:db8::1]', 2222, 'ssh-ed25519', A), 'stored');
    assert.deepEqual(cluster.shares, [{ host: '2001:db8::1', port: 2222, keyType: 'ssh-ed25519', key: A.toString('base64') }]);
    assert.equal(readFileSync(file, 'utf8'), `${line('[2001:db8::1]:2222', A)}\n`);
    cluster.put('other.example', 22, B);
    assert.equal(await store.accept('other.example', 22, 'ssh-ed25519', B), 'stored', 'present in the cluster, written here');
  });

  void it('accept refused by the cluster writes nothing: another key stored meanwhile (HOST_KEY_CHANGED, its fingerprint), no room (HOST_KEY_REJECTED), no answer (CLUSTER_UNAVAILABLE)', async () => {
    const { store, cluster, file } = withCluster();
    cluster.put('race.example', 22, B);
    await assert.rejects(store.accept('race.example', 22, 'ssh-ed25519', A), (err: unknown) =>
      err instanceof BridgeError && err.code === 'HOST_KEY_CHANGED' && err.detail === `stored ${sha256Fingerprint(B)} presented ${sha256Fingerprint(A)}`);
    cluster.full = true;
    await assert.rejects(store.accept('full.example', 22, 'ssh-ed25519', A), (err: unknown) => err instanceof BridgeError && err.code === 'HOST_KEY_REJECTED' && /no more host keys/.test(err.message));
    cluster.full = false;
    for (const down of ['no', 'reject'] as const) {
      cluster.down = down;
      await assert.rejects(store.accept('down.example', 22, 'ssh-ed25519', A), code('CLUSTER_UNAVAILABLE'), down);
    }
    assert.throws(() => readFileSync(file), /ENOENT/, 'nothing written here');
    assert.equal(store.verify({ host: 'down.example', port: 22, keyType: 'ssh-ed25519', key: A }).status, 'unknown', 'nor kept in memory');
  });

  void it('a key the files refuse is not offered to the cluster', async () => {
    const { store, cluster } = withCluster(`${line('kept.example', A)}\n`);
    await assert.rejects(store.accept('kept.example', 22, 'ssh-ed25519', B), code('HOST_KEY_CHANGED'));
    assert.deepEqual(cluster.shares, []);
  });
});
