/**
 * The page connection's state table (web/src/client-state.ts), spelled out here independently:
 * every pair of phases, the machine applying the same table, what each phase lets through, and
 * `socketReady` (whether the current or last socket reached READY).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsInput, ClientStateMachine, connStateOf, isValidTransition, Phase } from '../../../web/src/client-state.js';

const ALL: readonly Phase[] = [
  Phase.IDLE, Phase.OPENING, Phase.AUTHENTICATING, Phase.READY, Phase.RESUMING, Phase.RETRY_WAIT, Phase.RESUME_WAIT, Phase.CLOSED,
];

/** A new login may replace any phase and Disconnect may end any; the rest is the login and resume paths. */
const VALID: Readonly<Record<Phase, readonly Phase[]>> = {
  idle: ['opening', 'resuming', 'closed'],
  opening: ['opening', 'authenticating', 'ready', 'retry-wait', 'closed'],
  authenticating: ['opening', 'ready', 'retry-wait', 'closed'],
  ready: ['opening', 'resuming', 'retry-wait', 'closed'],
  resuming: ['opening', 'ready', 'resume-wait', 'retry-wait', 'closed'],
  'retry-wait': ['opening', 'closed'],
  'resume-wait': ['opening', 'resuming', 'closed'],
  closed: ['opening', 'closed'],
};

/** A shortest path from IDLE to each phase through valid transitions. */
const PATH: Readonly<Record<Phase, readonly Phase[]>> = {
  idle: [],
  opening: ['opening'],
  authenticating: ['opening', 'authenticating'],
  ready: ['opening', 'ready'],
  resuming: ['resuming'],
  'retry-wait': ['opening', 'retry-wait'],
  'resume-wait': ['resuming', 'resume-wait'],
  closed: ['closed'],
};

function machineIn(phase: Phase): ClientStateMachine {
  const sm = new ClientStateMachine();
  for (const step of PATH[phase]) assert.ok(sm.transitionTo(step), `setup: -> ${step}`);
  assert.equal(sm.phase, phase);
  return sm;
}

void test('the table names every phase: 8 phases, 64 pairs', () => {
  assert.deepEqual(new Set(Object.values(Phase)), new Set(ALL));
  assert.equal(ALL.length, 8);
});

void test('exactly the login, resume, retry and end paths are valid', () => {
  let valid = 0;
  for (const from of ALL) {
    for (const to of ALL) {
      const expected = VALID[from].includes(to);
      assert.equal(isValidTransition(from, to), expected, `${from} -> ${to}`);
      if (expected) valid++;
    }
  }
  assert.equal(valid, 28);
  for (const from of ALL) {
    assert.ok(isValidTransition(from, Phase.OPENING), `a new login from ${from}`);
    assert.ok(isValidTransition(from, Phase.CLOSED), `Disconnect from ${from}`);
  }
  // Nothing waits or resumes without a socket having been there first.
  assert.equal(isValidTransition(Phase.IDLE, Phase.READY), false);
  assert.equal(isValidTransition(Phase.RETRY_WAIT, Phase.RESUMING), false);
  assert.equal(isValidTransition(Phase.CLOSED, Phase.RESUMING), false);
});

void test('the machine applies the same table for all 64 pairs, and a refused pair changes nothing', () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const sm = machineIn(from);
      const expected = VALID[from].includes(to);
      assert.equal(sm.transitionTo(to), expected, `${from} -> ${to}`);
      assert.equal(sm.phase, expected ? to : from, `phase after ${from} -> ${to}`);
    }
  }
});

void test('socketReady: set by READY, reset by every new attempt, kept through waits and the end', () => {
  const sm = new ClientStateMachine();
  assert.equal(sm.socketReady, false);
  sm.transitionTo(Phase.OPENING);
  sm.transitionTo(Phase.AUTHENTICATING);
  assert.equal(sm.socketReady, false);
  sm.transitionTo(Phase.READY);
  assert.equal(sm.socketReady, true);
  sm.transitionTo(Phase.RETRY_WAIT);
  assert.equal(sm.socketReady, true, 'the lost socket had reached ready: its output is on screen');
  sm.transitionTo(Phase.OPENING);
  assert.equal(sm.socketReady, false);
  sm.transitionTo(Phase.READY);
  sm.transitionTo(Phase.RESUMING);
  assert.equal(sm.socketReady, false, 'the resume socket has not got `resumed` yet');
  sm.transitionTo(Phase.RESUME_WAIT);
  assert.equal(sm.socketReady, false);
  sm.transitionTo(Phase.RESUMING);
  sm.transitionTo(Phase.READY);
  sm.transitionTo(Phase.CLOSED);
  assert.equal(sm.socketReady, true);
  assert.equal(sm.transitionTo(Phase.READY), false);
  assert.equal(sm.socketReady, true, 'a refused transition changes nothing');
});

void test('what the status line calls each phase', () => {
  const expected: Readonly<Record<Phase, [string, string]>> = {
    idle: ['idle', 'idle'],
    opening: ['connecting', 'reconnecting'],
    authenticating: ['connecting', 'reconnecting'],
    ready: ['connected', 'connected'],
    resuming: ['reconnecting', 'reconnecting'],
    'retry-wait': ['reconnecting', 'reconnecting'],
    'resume-wait': ['reconnecting', 'reconnecting'],
    closed: ['closed', 'closed'],
  };
  for (const phase of ALL) {
    assert.deepEqual([connStateOf(phase, false), connStateOf(phase, true)], expected[phase], phase);
  }
});

void test('input goes out once `auth` is sent and while a session is ready, never while resuming', () => {
  const open = ALL.filter(acceptsInput);
  assert.deepEqual(open, [Phase.AUTHENTICATING, Phase.READY]);
});
