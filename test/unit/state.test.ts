import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionState, SessionStateMachine, isValidTransition, type TransitionObserver } from '../../src/session/state.js';
import { prng } from '../helpers/prng.js';

const ALL: readonly SessionState[] = [
  SessionState.CREATED,
  SessionState.CONNECTING,
  SessionState.ACTIVE,
  SessionState.DETACHED,
  SessionState.CLOSING,
  SessionState.CLOSED,
];

/** The seed bridge's table plus DETACHED (resume), spelled out independently of src/session/state.ts. */
const VALID: Readonly<Record<SessionState, readonly SessionState[]>> = {
  CREATED: ['CONNECTING', 'CLOSING'],
  CONNECTING: ['ACTIVE', 'CLOSING'],
  ACTIVE: ['DETACHED', 'CLOSING'],
  DETACHED: ['ACTIVE', 'CLOSING'],
  CLOSING: ['CLOSED'],
  CLOSED: [],
};

/** A shortest path from CREATED to each state, through valid transitions only. */
const PATH: Readonly<Record<SessionState, readonly SessionState[]>> = {
  CREATED: [],
  CONNECTING: ['CONNECTING'],
  ACTIVE: ['CONNECTING', 'ACTIVE'],
  DETACHED: ['CONNECTING', 'ACTIVE', 'DETACHED'],
  CLOSING: ['CLOSING'],
  CLOSED: ['CLOSING', 'CLOSED'],
};

type Call = { from: SessionState; to: SessionState; ms: number };

function recorder(): { calls: Call[]; observer: TransitionObserver } {
  const calls: Call[] = [];
  return { calls, observer: (from, to, ms) => void calls.push({ from, to, ms }) };
}

function machineIn(state: SessionState, observer?: TransitionObserver): SessionStateMachine {
  const sm = new SessionStateMachine(observer);
  for (const step of PATH[state]) assert.ok(sm.transitionTo(step), `setup: -> ${step}`);
  assert.equal(sm.state, state);
  return sm;
}


/** Yield `hops` times, mixing macrotask (setImmediate) and microtask (Promise.resolve) hops. */
async function hop(hops: number, rand: () => number): Promise<void> {
  for (let i = 0; i < hops; i++) {
    if (rand() < 0.5) await new Promise<void>((resolve) => setImmediate(resolve));
    else await Promise.resolve();
  }
}

void test('the table has exactly 36 pairs and names every state', () => {
  assert.equal(ALL.length, 6);
  assert.deepEqual(new Set(Object.values(SessionState)), new Set(ALL));
  const pairs = new Set(ALL.flatMap((from) => ALL.map((to) => `${from}->${to}`)));
  assert.equal(pairs.size, 36);
});

void test('the seed and DETACHED transitions are valid, every other pair (self-transitions included) is not', () => {
  let valid = 0;
  let invalid = 0;
  for (const from of ALL) {
    for (const to of ALL) {
      const expected = VALID[from].includes(to);
      assert.equal(isValidTransition(from, to), expected, `${from} -> ${to}`);
      if (expected) valid++;
      else invalid++;
    }
  }
  assert.equal(valid, 9);
  assert.equal(invalid, 27);
  for (const s of ALL) assert.equal(isValidTransition(s, s), false, `${s} -> ${s}`);
});

void test('the machine applies the same table for all 36 pairs, and a refused pair changes nothing', () => {
  for (const from of ALL) {
    for (const to of ALL) {
      const { calls, observer } = recorder();
      const sm = machineIn(from, observer);
      const before = calls.length;
      const expected = VALID[from].includes(to);
      assert.equal(sm.transitionTo(to), expected, `${from} -> ${to}`);
      assert.equal(sm.state, expected ? to : from, `state after ${from} -> ${to}`);
      assert.equal(calls.length - before, expected ? 1 : 0, `observer calls for ${from} -> ${to}`);
    }
  }
});

void test('a new machine starts in CREATED; CLOSED is terminal', () => {
  const sm = new SessionStateMachine();
  assert.equal(sm.state, SessionState.CREATED);
  const closed = machineIn(SessionState.CLOSED);
  for (const to of ALL) assert.equal(closed.transitionTo(to), false, `CLOSED -> ${to}`);
  assert.equal(closed.state, SessionState.CLOSED);
});

void test('100 synchronous contenders for CREATED -> CONNECTING: exactly one wins', () => {
  const { calls, observer } = recorder();
  const sm = new SessionStateMachine(observer);
  const results = Array.from({ length: 100 }, () => sm.transitionTo(SessionState.CONNECTING));
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(results[0], true);
  assert.equal(sm.state, SessionState.CONNECTING);
  assert.equal(calls.length, 1);
});

void test('100 contenders interleaved across await points for CREATED -> CONNECTING: exactly one wins', async () => {
  const rand = prng(0xc0ffee);
  const { calls, observer } = recorder();
  const sm = new SessionStateMachine(observer);
  const hops = Array.from({ length: 100 }, () => Math.floor(rand() * 8));
  const order: number[] = [];
  const results = await Promise.all(
    hops.map(async (n, i) => {
      await hop(n, rand);
      order.push(i);
      return sm.transitionTo(SessionState.CONNECTING);
    }),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(sm.state, SessionState.CONNECTING);
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0] && [calls[0].from, calls[0].to], [SessionState.CREATED, SessionState.CONNECTING]);
  // The contenders really did interleave: they tried in an order other than the one they started in.
  assert.equal(order.length, 100);
  assert.notDeepEqual(order, [...order].sort((a, b) => a - b));
  // The winner is the first one to try.
  assert.equal(results.indexOf(true), order[0]);
});

void test('100 synchronous contenders for ACTIVE -> CLOSING: exactly one wins', () => {
  const { calls, observer } = recorder();
  const sm = machineIn(SessionState.ACTIVE, observer);
  const before = calls.length;
  const results = Array.from({ length: 100 }, () => sm.transitionTo(SessionState.CLOSING));
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(sm.state, SessionState.CLOSING);
  assert.equal(calls.length - before, 1);
});

void test('100 contenders interleaved across await points for ACTIVE -> CLOSING: exactly one wins', async () => {
  const rand = prng(0x5eed);
  const { calls, observer } = recorder();
  const sm = machineIn(SessionState.ACTIVE, observer);
  const before = calls.length;
  const order: number[] = [];
  const results = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      await hop(Math.floor(rand() * 8), rand);
      order.push(i);
      return sm.transitionTo(SessionState.CLOSING);
    }),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(sm.state, SessionState.CLOSING);
  assert.equal(calls.length - before, 1);
  assert.notDeepEqual(order, [...order].sort((a, b) => a - b));
  assert.equal(results.indexOf(true), order[0]);
});

void test('mixed contenders from CONNECTING: at most one ACTIVE and one CLOSING, in table order', async () => {
  const rand = prng(42);
  const sm = machineIn(SessionState.CONNECTING);
  const wins: SessionState[] = [];
  await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const to = i % 2 === 0 ? SessionState.ACTIVE : SessionState.CLOSING;
      await hop(Math.floor(rand() * 8), rand);
      if (sm.transitionTo(to)) wins.push(to);
    }),
  );
  // CONNECTING -> ACTIVE -> CLOSING is a valid path, so both kinds may win once; nothing more.
  assert.ok(
    [['CLOSING'], ['ACTIVE', 'CLOSING']].some((w) => JSON.stringify(w) === JSON.stringify(wins)),
    `wins: ${wins.join(',')}`,
  );
  assert.equal(sm.state, SessionState.CLOSING);
});

void test('observer: once per successful transition, with from/to and the time spent in from', () => {
  const clock = { t: 1_000 };
  const { calls, observer } = recorder();
  const sm = new SessionStateMachine(observer, () => clock.t);
  clock.t += 5;
  assert.ok(sm.transitionTo(SessionState.CONNECTING));
  clock.t += 250;
  assert.ok(sm.transitionTo(SessionState.ACTIVE));
  clock.t += 60_000;
  assert.ok(sm.transitionTo(SessionState.CLOSING));
  clock.t += 3;
  assert.ok(sm.transitionTo(SessionState.CLOSED));
  assert.deepEqual(calls, [
    { from: 'CREATED', to: 'CONNECTING', ms: 5 },
    { from: 'CONNECTING', to: 'ACTIVE', ms: 250 },
    { from: 'ACTIVE', to: 'CLOSING', ms: 60_000 },
    { from: 'CLOSING', to: 'CLOSED', ms: 3 },
  ]);
});

void test('observer: never called on a failed transition, and a failure does not restart the clock', () => {
  const clock = { t: 0 };
  const { calls, observer } = recorder();
  const sm = new SessionStateMachine(observer, () => clock.t);
  clock.t = 10;
  assert.equal(sm.transitionTo(SessionState.ACTIVE), false);
  assert.equal(sm.transitionTo(SessionState.CREATED), false);
  assert.equal(sm.transitionTo(SessionState.CLOSED), false);
  assert.equal(sm.compareAndTransition(SessionState.ACTIVE, SessionState.CLOSING), false);
  assert.equal(calls.length, 0);
  clock.t = 30;
  assert.ok(sm.transitionTo(SessionState.CLOSING));
  assert.deepEqual(calls, [{ from: 'CREATED', to: 'CLOSING', ms: 30 }]);
  clock.t = 40;
  assert.equal(sm.transitionTo(SessionState.CLOSING), false);
  assert.equal(sm.transitionTo(SessionState.ACTIVE), false);
  clock.t = 45;
  assert.ok(sm.transitionTo(SessionState.CLOSED));
  assert.deepEqual(calls[1], { from: 'CLOSING', to: 'CLOSED', ms: 15 });
  assert.equal(calls.length, 2);
});

void test('observer: the default clock gives a finite, non-negative duration', () => {
  const { calls, observer } = recorder();
  const sm = new SessionStateMachine(observer);
  assert.ok(sm.transitionTo(SessionState.CONNECTING));
  const ms = calls[0]?.ms;
  assert.equal(typeof ms, 'number');
  assert.ok(Number.isFinite(ms) && (ms ?? -1) >= 0);
});

void test('no observer: transitions still work', () => {
  const sm = new SessionStateMachine();
  assert.ok(sm.transitionTo(SessionState.CONNECTING));
  assert.ok(sm.transitionTo(SessionState.ACTIVE));
  assert.ok(sm.transitionTo(SessionState.CLOSING));
  assert.ok(sm.transitionTo(SessionState.CLOSED));
});

void test('compareAndTransition fires only from the expected state', () => {
  for (const actual of ALL) {
    for (const expected of ALL) {
      for (const to of ALL) {
        const { calls, observer } = recorder();
        const sm = machineIn(actual, observer);
        const before = calls.length;
        const should = actual === expected && VALID[actual].includes(to);
        assert.equal(sm.compareAndTransition(expected, to), should, `in ${actual}: CAS(${expected}, ${to})`);
        assert.equal(sm.state, should ? to : actual);
        assert.equal(calls.length - before, should ? 1 : 0);
      }
    }
  }
});

void test('compareAndTransition: a valid move from the wrong state is refused', () => {
  const sm = new SessionStateMachine();
  // CREATED -> CLOSING is valid, but not when the caller expected CONNECTING.
  assert.equal(sm.compareAndTransition(SessionState.CONNECTING, SessionState.CLOSING), false);
  assert.equal(sm.state, SessionState.CREATED);
  assert.equal(sm.compareAndTransition(SessionState.CREATED, SessionState.CONNECTING), true);
  // The same call again loses: the state moved on.
  assert.equal(sm.compareAndTransition(SessionState.CREATED, SessionState.CONNECTING), false);
  assert.equal(sm.compareAndTransition(SessionState.CONNECTING, SessionState.ACTIVE), true);
  assert.equal(sm.state, SessionState.ACTIVE);
});

void test('compareAndTransition: 100 interleaved contenders, exactly one wins', async () => {
  const rand = prng(7);
  const sm = machineIn(SessionState.CONNECTING);
  const results = await Promise.all(
    Array.from({ length: 100 }, async () => {
      await hop(Math.floor(rand() * 6), rand);
      return sm.compareAndTransition(SessionState.CONNECTING, SessionState.ACTIVE);
    }),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(sm.state, SessionState.ACTIVE);
});

void test('isActive / isClosed / canClose in every state', () => {
  const expected: Record<SessionState, { active: boolean; closed: boolean; canClose: boolean }> = {
    CREATED: { active: false, closed: false, canClose: true },
    CONNECTING: { active: false, closed: false, canClose: true },
    ACTIVE: { active: true, closed: false, canClose: true },
    DETACHED: { active: false, closed: false, canClose: true },
    CLOSING: { active: false, closed: true, canClose: false },
    CLOSED: { active: false, closed: true, canClose: false },
  };
  for (const s of ALL) {
    const sm = machineIn(s);
    assert.deepEqual({ active: sm.isActive(), closed: sm.isClosed(), canClose: sm.canClose() }, expected[s], s);
  }
});

void test('isActive / isClosed / canClose follow one lifecycle step by step', () => {
  const sm = new SessionStateMachine();
  const snap = (): [SessionState, boolean, boolean, boolean] => [sm.state, sm.isActive(), sm.isClosed(), sm.canClose()];
  assert.deepEqual(snap(), ['CREATED', false, false, true]);
  sm.transitionTo(SessionState.CONNECTING);
  assert.deepEqual(snap(), ['CONNECTING', false, false, true]);
  sm.transitionTo(SessionState.ACTIVE);
  assert.deepEqual(snap(), ['ACTIVE', true, false, true]);
  sm.transitionTo(SessionState.CLOSING);
  assert.deepEqual(snap(), ['CLOSING', false, true, false]);
  sm.transitionTo(SessionState.CLOSED);
  assert.deepEqual(snap(), ['CLOSED', false, true, false]);
});
