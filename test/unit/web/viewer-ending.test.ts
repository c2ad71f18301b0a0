/**
 * How watching ended (web/src/viewer-ending.ts): each close a viewer can get (docs/protocol.md#sharing)
 * -> the sentence, whether the owner's session still runs, and Rejoin or "Open the gateway".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloseInfo } from '../../../web/src/errors.js';
import { LINK_ENDED, viewerEnding } from '../../../web/src/viewer-ending.js';

function close(code: number, opts: { error?: string; message?: string; reason?: string; wasReady?: boolean } = {}): CloseInfo {
  return {
    code,
    reason: opts.reason ?? '',
    error: opts.error === undefined ? null : { code: opts.error, message: opts.message ?? '' },
    target: 'h:22',
    wasReady: opts.wasReady ?? true,
    method: 'password',
  };
}

void test('the owner stopped sharing or the link expired while watching: the session still runs', () => {
  const revoked = viewerEnding(close(4009, { error: 'SHARE_REVOKED', message: 'share link ended: revoked', reason: 'SHARE_REVOKED: share link ended: revoked' }), null);
  assert.deepEqual({ ...revoked }, { kind: 'link-ended', message: LINK_ENDED.revoked, code: 'SHARE_REVOKED', rejoin: false, gateway: true, sessionRunning: true, wasViewing: true });
  const expired = viewerEnding(close(4009, { reason: 'SHARE_REVOKED: share link ended: expired' }), null);
  assert.equal(expired.message, LINK_ENDED.expired);
  assert.equal(expired.sessionRunning, true);
  assert.equal(expired.gateway, true);
});

void test('the session ended: by an exit (with its status) or as the link\'s end', () => {
  const exit = viewerEnding(close(1000, { reason: 'SHELL_EXITED: shell exited: exit status 3' }), { status: 3, signal: null });
  assert.equal(exit.message, 'The session ended (the shell exited with status 3).');
  assert.deepEqual([exit.kind, exit.sessionRunning, exit.gateway, exit.rejoin], ['exit', false, true, false]);
  const signal = viewerEnding(close(1000), { status: null, signal: 'SIGKILL' });
  assert.equal(signal.message, 'The session ended (the shell got signal KILL).');
  const ended = viewerEnding(close(4009, { error: 'SHARE_REVOKED', message: 'share link ended: session ended' }), null);
  assert.deepEqual([ended.message, ended.sessionRunning, ended.gateway], [LINK_ENDED.sessionEnded, false, true]);
});

void test('a link dead at join: SHARE_INVALID without detail; the token\'s expiry tells an expired one', () => {
  const dead = close(4009, { error: 'SHARE_INVALID', message: 'share link invalid, expired or revoked', reason: 'SHARE_INVALID: share link invalid, expired or revoked', wasReady: false });
  const unknown = viewerEnding(dead, null);
  assert.deepEqual([unknown.message, unknown.sessionRunning, unknown.gateway, unknown.wasViewing], [LINK_ENDED.dead, null, true, false]);
  assert.equal(viewerEnding(dead, null, true).message, LINK_ENDED.deadExpired);
});

void test('falling behind, a full session and a lost connection offer Rejoin, not the gateway', () => {
  for (const info of [close(4010), close(1013, { error: 'SHARE_FULL' }), close(1006), close(1013, { error: 'LIMIT_TOTAL' })]) {
    const end = viewerEnding(info, null);
    assert.equal(end.rejoin, true, JSON.stringify(info));
    assert.equal(end.gateway, false, JSON.stringify(info));
    assert.equal(end.sessionRunning, null);
  }
});

void test('a refusal that no rejoin can help offers the gateway; a credential problem asks for the token', () => {
  const denied = viewerEnding(close(1008, { error: 'TARGET_DENIED', message: 'target denied', wasReady: false }), null);
  assert.deepEqual([denied.kind, denied.rejoin, denied.gateway], ['error', false, true]);
  const token = viewerEnding(close(4006, { error: 'BRIDGE_AUTH_INVALID', wasReady: false }), null);
  assert.deepEqual([token.kind, token.rejoin, token.gateway], ['credential', false, false]);
});
