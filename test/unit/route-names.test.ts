/**
 * How a session's route is named in its log lines, recording header and stats
 * (src/policy/route-names.ts): the jump hosts as `user@host:port` in order, never a credential.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeRoute, routeKind } from '../../src/policy/route-names.js';
import { reachedThrough, type JumpRoute } from '../../src/policy/route.js';
import type { HopLogin } from '../../src/protocol/types.js';

const first = { host: 'bastion.example', port: 22, address: '192.0.2.10', family: 4 as const, key: '192.0.2.10:22' };
const clientRoute: JumpRoute = { first, later: [{ host: '10.0.5.4', port: 2222 }, { host: 'fd00::7', port: 22 }], login: null };
const operatorRoute: JumpRoute = { first: reachedThrough({ host: 'jump.ops.example', port: 2200 }), later: [], login: { username: 'ops', auth: { method: 'publickey', privateKey: 'PRIVATE-KEY-TEXT', passphrase: undefined } } };
const logins: HopLogin[] = [
  { username: 'alice', auth: { method: 'password', password: 'hop-one-secret' } },
  { username: 'bob', auth: { method: 'publickey', privateKey: 'KEY', passphrase: 'hop-two-phrase' } },
  { username: 'carol', auth: { method: 'keyboard-interactive' } },
];

void describe('route names', () => {
  void it('a direct session has no hops', () => {
    assert.deepEqual(describeRoute(null, null), { kind: 'direct', hops: [] });
    assert.deepEqual(describeRoute(null, []), { kind: 'direct', hops: [] });
    assert.equal(routeKind(null), 'direct');
  });

  void it('the client\'s route names every hop as user@host:port in order, by the name given, IPv6 in brackets', () => {
    assert.deepEqual(describeRoute(clientRoute, logins), { kind: 'jump', hops: ['alice@bastion.example:22', 'bob@10.0.5.4:2222', 'carol@[fd00::7]:22'] });
    assert.equal(routeKind(clientRoute), 'jump');
  });

  void it('before the auth message, or with logins that do not match the route, the hops are host:port', () => {
    const servers = ['bastion.example:22', '10.0.5.4:2222', '[fd00::7]:22'];
    assert.deepEqual(describeRoute(clientRoute, null).hops, servers);
    assert.deepEqual(describeRoute(clientRoute, logins.slice(0, 2)).hops, servers, 'two logins for three hops: no user is guessed');
    assert.deepEqual(describeRoute(clientRoute, []).hops, servers);
  });

  void it('an operator route names its own user, whatever the client sent', () => {
    assert.deepEqual(describeRoute(operatorRoute, null), { kind: 'operator', hops: ['ops@jump.ops.example:2200'] });
    assert.deepEqual(describeRoute(operatorRoute, logins.slice(0, 1)), { kind: 'operator', hops: ['ops@jump.ops.example:2200'] });
    assert.equal(routeKind(operatorRoute), 'operator');
  });

  void it('never carries a credential', () => {
    const text = JSON.stringify([describeRoute(clientRoute, logins), describeRoute(operatorRoute, logins)]);
    for (const secret of ['hop-one-secret', 'hop-two-phrase', 'KEY', 'PRIVATE-KEY-TEXT', 'password', 'publickey']) assert.ok(!text.includes(secret), secret);
  });
});
