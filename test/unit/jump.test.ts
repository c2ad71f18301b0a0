/**
 * Jump hosts, the pure parts: the route's `?jump=` (src/http/jump-param.ts), how the policy judges
 * a server behind a jump host (TargetPolicy.decideBeyond), a hop's error naming it, and the v1
 * codec's `jump` logins and `hostkey` hop.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BridgeError } from '../../src/errors.js';
import { parseJumpParam } from '../../src/http/jump-param.js';
import { hopError } from '../../src/policy/route.js';
import { TargetPolicy } from '../../src/policy/target-rules.js';
import { v1Codec } from '../../src/protocol/v1.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return err instanceof BridgeError ? `${err.code}: ${err.detail ?? ''}` : String(err);
  }
  return 'no error';
};

void describe('jump hosts', () => {
  void it('reads ?jump= as 1-3 hops of host[:port] (port 22 by default, IPv6 in brackets)', () => {
    assert.deepEqual(parseJumpParam(null), []);
    assert.deepEqual(parseJumpParam('bastion.example'), [{ host: 'bastion.example', port: 22 }]);
    assert.deepEqual(parseJumpParam('b1:2222,[2001:db8::7]:22,10.0.0.5'), [
      { host: 'b1', port: 2222 }, { host: '2001:db8::7', port: 22 }, { host: '10.0.0.5', port: 22 },
    ]);
    for (const [bad, why] of [
      ['', /1 to 3 hops/], ['a,b,c,d', /1 to 3 hops/], ['a,,b', /hop 2 is not host\[:port\]/], ['h:0', /hop 1: .*1-65535|hop 1/],
      ['h:x', /hop 1: port is not a decimal number/], ['user@h', /hop 1/], ['h h', /hop 1/], ['[::1', /hop 1/], ['::1:22', /hop 1/],
      ['[fe80::1%eth0]:22', /hop 1/], ['010.1.1.1', /hop 1/],
    ] as const) {
      const got = code(() => parseJumpParam(bad));
      assert.ok(got.startsWith('BAD_JUMP: ') && why.test(got), `${JSON.stringify(bad)}: ${got}`);
    }
  });

  void it('judges a server behind a jump host by the name or literal given: built-in list, name deny rules, jump-targets', () => {
    const open = TargetPolicy.fromConfig({ allowTargets: ['bastion.example'], denyTargets: ['10.0.0.0/8', '*.secret.example'], denyPrivateTargets: true });
    assert.deepEqual(open.decideBeyond('10.1.2.3', 22), { ok: true }, 'IP rules, allow list and private ranges are the bridge\'s network, not the bastion\'s');
    assert.deepEqual(open.decideBeyond('db.internal', 22), { ok: true });
    assert.deepEqual(open.decideBeyond('169.254.169.254', 22), { ok: false, reason: '169.254.169.254 is in a denied range' });
    assert.deepEqual(open.decideBeyond('vault.secret.example', 22), { ok: false, reason: 'vault.secret.example:22 matches deny rule *.secret.example' });
    const narrow = TargetPolicy.fromConfig({ allowTargets: [], denyTargets: [], denyPrivateTargets: false, jumpTargets: ['*.internal:22', '10.0.0.0/8:22'] });
    assert.deepEqual(narrow.decideBeyond('DB.Internal.', 22), { ok: true }, 'names compare case-insensitively, a trailing dot ignored');
    assert.deepEqual(narrow.decideBeyond('10.9.8.7', 22), { ok: true });
    assert.deepEqual(narrow.decideBeyond('10.9.8.7', 2222), { ok: false, reason: '10.9.8.7:2222 matches no jump-targets rule' });
    assert.deepEqual(narrow.decideBeyond('db.example', 22), { ok: false, reason: 'db.example:22 matches no jump-targets rule' });
  });

  void it('a hop\'s error keeps its code and names the hop', () => {
    const e = hopError(new BridgeError('SSH_AUTH_FAILED'), 2, { host: '2001:db8::7', port: 22 });
    assert.ok(e instanceof BridgeError);
    assert.equal(e.code, 'SSH_AUTH_FAILED');
    assert.equal(e.detail, 'hop 2 ([2001:db8::7]:22)');
    const withDetail = hopError(new BridgeError('TARGET_UNREACHABLE', 'connection refused'), 1, { host: 'b', port: 2222 });
    assert.ok(withDetail instanceof BridgeError);
    assert.equal(withDetail.detail, 'hop 1 (b:2222): connection refused');
    assert.equal(withDetail.reasonDetail, undefined, 'no short detail: the close reason uses the detail');
    const changed = hopError(new BridgeError('HOST_KEY_CHANGED', 'stored SHA256:a presented SHA256:b', { reasonDetail: 'presented SHA256:b differs from stored' }), 1, { host: 'b', port: 22 });
    assert.ok(changed instanceof BridgeError);
    assert.equal(changed.detail, 'hop 1 (b:22): stored SHA256:a presented SHA256:b');
    assert.equal(changed.reasonDetail, 'hop 1: presented SHA256:b differs from stored', 'the short detail names the hop, not its server');
    const other = new Error('x');
    assert.equal(hopError(other, 1, { host: 'b', port: 22 }), other, 'anything else goes through as it is');
  });

  void it('the v1 auth message carries one login per hop; the hostkey question names its hop', () => {
    const frame = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
    const creds = v1Codec.decodeAuth(frame({ type: 'auth', username: 'alice', password: 'p', jump: [{ username: 'ops', method: 'keyboard-interactive' }, { username: 'bob', password: 'q' }] }), false);
    assert.deepEqual(creds.jump, [{ username: 'ops', auth: { method: 'keyboard-interactive' } }, { username: 'bob', auth: { method: 'password', password: 'q' } }]);
    assert.deepEqual(v1Codec.decodeAuth(frame({ type: 'auth', username: 'alice', password: 'p' }), false).jump, []);
    for (const jump of [{}, 'x', [1], [{}], [{ username: 'a', method: 'telepathy' }], Array.from({ length: 4 }, () => ({ username: 'a', password: 'p' }))]) {
      assert.match(code(() => v1Codec.decodeAuth(frame({ type: 'auth', username: 'alice', password: 'p', jump }), false)), /^PROTOCOL_ERROR: /, JSON.stringify(jump));
    }
    const base = { type: 'hostkey', host: 'b', port: 22, algorithm: 'ssh-ed25519', fingerprint: 'SHA256:x', status: 'unknown' } as const;
    assert.deepEqual(JSON.parse(String(v1Codec.encode({ ...base, hop: 1 }))), { ...base, hop: 1 });
    assert.deepEqual(JSON.parse(String(v1Codec.encode(base))), base, 'the target\'s question has no hop');
    const round = { type: 'prompt', name: '', instructions: '', prompts: [{ prompt: 'Password: ', echo: false }] } as const;
    assert.deepEqual(JSON.parse(String(v1Codec.encode({ ...round, hop: 2 }))), { ...round, hop: 2 }, 'a jump host\'s keyboard-interactive round names its hop');
    assert.deepEqual(JSON.parse(String(v1Codec.encode(round))), round);
  });
});
