import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TargetRuleError, parseTargetRule, ruleMatchesAddress, ruleMatchesName } from '../../src/grammar/target-rule.js';
import { DEFAULT_DENY, PRIVATE_RANGES, TargetPolicy, type TargetDecision, type TargetPolicyConfig } from '../../src/policy/target-rules.js';
import { resolveTarget, type LookupFn } from '../../src/policy/target.js';
import { BridgeError } from '../../src/errors.js';

const policy = (c: Partial<TargetPolicyConfig>): TargetPolicy =>
  TargetPolicy.fromConfig({ allowTargets: [], denyTargets: [], denyPrivateTargets: false, ...c });

const allowed = (d: TargetDecision): readonly string[] => {
  if (!d.ok) assert.fail(`expected allowed, got: ${d.reason}`);
  return d.addresses;
};
const denied = (d: TargetDecision): string => {
  if (d.ok) assert.fail(`expected denied, got addresses ${d.addresses.join(', ')}`);
  return d.reason;
};

void describe('parseTargetRule', () => {
  void it('parses IPs, CIDRs, bracketed and bare IPv6, globs and ports', () => {
    const cases: Array<[string, { kind: 'ip'; cidr: string } | { kind: 'name'; glob: string }, { lo: number; hi: number } | null]> = [
      ['192.0.2.7', { kind: 'ip', cidr: '192.0.2.7' }, null],
      ['192.0.2.7:22', { kind: 'ip', cidr: '192.0.2.7' }, { lo: 22, hi: 22 }],
      ['10.0.0.0/8:22-2222', { kind: 'ip', cidr: '10.0.0.0/8' }, { lo: 22, hi: 2222 }],
      ['::1', { kind: 'ip', cidr: '::1' }, null],
      ['fe80::/10', { kind: 'ip', cidr: 'fe80::/10' }, null],
      ['2001:db8:0:0:0:0:0:1', { kind: 'ip', cidr: '2001:db8::1' }, null],
      ['[fd00::/8]:22', { kind: 'ip', cidr: 'fd00::/8' }, { lo: 22, hi: 22 }],
      ['[::1]', { kind: 'ip', cidr: '::1' }, null],
      ['[2001:DB8::1]:2200-2300', { kind: 'ip', cidr: '2001:db8::1' }, { lo: 2200, hi: 2300 }],
      ['::ffff:10.0.0.0/104', { kind: 'ip', cidr: '10.0.0.0/8' }, null],
      ['[::ffff:192.0.2.7]:22', { kind: 'ip', cidr: '192.0.2.7' }, { lo: 22, hi: 22 }],
      ['*.lab.example', { kind: 'name', glob: '*.lab.example' }, null],
      ['Host-1.Example.:2200', { kind: 'name', glob: 'host-1.example' }, { lo: 2200, hi: 2200 }],
      ['ssh?.example:1-65535', { kind: 'name', glob: 'ssh?.example' }, { lo: 1, hi: 65535 }],
      ['*', { kind: 'name', glob: '*' }, null],
      ['  db.example  ', { kind: 'name', glob: 'db.example' }, null],
    ];
    for (const [text, expect, ports] of cases) {
      const rule = parseTargetRule(text);
      assert.equal(rule.kind, expect.kind, text);
      if (rule.kind === 'ip' && expect.kind === 'ip') assert.equal(rule.cidr, expect.cidr, text);
      if (rule.kind === 'name' && expect.kind === 'name') assert.equal(rule.glob, expect.glob, text);
      assert.deepEqual(rule.ports, ports, text);
      assert.equal(rule.text, text.trim(), text);
    }
  });

  void it('refuses what it cannot use, naming the rule', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['h:0', /1-65535/],
      ['h:70000', /1-65535/],
      ['h:22-21', /reversed/],
      ['h:22-', /port/],
      ['h:x', /port/],
      ['10.0.0.0/33', /prefix length/],
      ['[fd00::/129]:22', /prefix length/],
      ['[10.0.0.1]:22', /brackets are for IPv6/],
      ['[::1', /without "]"/],
      ['[::1]22', /only ":PORTS"/],
      ['10.*', /looks like an IPv4/],
      ['999.1.1.1', /looks like an IPv4/],
      ['1.2.3', /looks like an IPv4/],
      ['a..b', /empty label/],
      ['.a', /empty label/],
      ['a b', /may contain only/],
      ['h/x', /not an IP/],
      [':22', /host part is empty/],
    ];
    for (const [text, pattern] of bad) {
      assert.throws(() => parseTargetRule(text), (err: unknown) => err instanceof TargetRuleError && pattern.test(err.message), text);
    }
  });
});

void describe('name globs', () => {
  const table: Array<[string, string, boolean]> = [
    ['*.lab.example', 'a.lab.example', true],
    ['*.lab.example', 'a.b.lab.example', true],
    ['*.lab.example', 'lab.example', false],
    ['*.lab.example', 'evillab.example', false],
    ['*.lab.example', 'a.lab.example.evil.test', false],
    ['*.lab.example', 'A.LAB.EXAMPLE.', true],
    ['*.LAB.example', 'a.lab.example', true],
    ['lab.example', 'lab.example', true],
    ['lab.example', 'a.lab.example', false],
    ['ssh?.example', 'ssh1.example', true],
    ['ssh?.example', 'ssh.example', false],
    ['ssh?.example', 'ssh12.example', false],
    ['ssh?.example', 'ssh..example', false],
    ['ssh?example', 'ssh.example', false],
    ['ssh*.example', 'ssh.example', true],
    ['ssh*.example', 'ssh-a.example', true],
    ['*', 'anything.example', true],
    ['db-1.example', 'db-1.example', true],
    ['db-1.example', 'dbx1.example', false],
  ];
  for (const [glob, name, match] of table) {
    void it(`${glob} ${match ? 'matches' : 'does not match'} ${name}`, () => {
      const rule = parseTargetRule(glob);
      const n = (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();
      assert.equal(ruleMatchesName(rule, n, 22), match);
      // the same through a policy, with a trailing dot and upper case left as asked
      const d = policy({ allowTargets: [glob] }).decide(name, 22, ['192.0.2.1']);
      assert.equal(d.ok, match);
    });
  }
  void it('name rules never match IP literal targets, IP rules never match names', () => {
    const p = policy({ allowTargets: ['*'] });
    assert.match(denied(p.decide('192.0.2.1', 22, ['192.0.2.1'])), /^192\.0\.2\.1:22 matches no allow rule$/);
    assert.match(denied(p.decide('::1', 22, ['::1'])), /^\[::1\]:22 matches no allow rule$/);
    assert.equal(ruleMatchesName(parseTargetRule('10.0.0.0/8'), '10.0.0.1', 22), false);
    assert.equal(ruleMatchesAddress(parseTargetRule('*'), '10.0.0.1', 22), false);
  });
});

void describe('ports', () => {
  const table: Array<[string, number, boolean]> = [
    ['10.0.0.0/8', 1, true],
    ['10.0.0.0/8', 65535, true],
    ['10.0.0.0/8:22', 22, true],
    ['10.0.0.0/8:22', 2222, false],
    ['10.0.0.0/8:22-2222', 21, false],
    ['10.0.0.0/8:22-2222', 22, true],
    ['10.0.0.0/8:22-2222', 1000, true],
    ['10.0.0.0/8:22-2222', 2222, true],
    ['10.0.0.0/8:22-2222', 2223, false],
    ['[fd00::/8]:22', 22, true],
    ['[fd00::/8]:22', 23, false],
    ['fd00::/8', 23, true],
  ];
  for (const [rule, port, match] of table) {
    void it(`${rule} ${match ? 'covers' : 'does not cover'} port ${port}`, () => {
      const address = rule.includes('fd00') ? 'fd12::1' : '10.1.2.3';
      assert.equal(ruleMatchesAddress(parseTargetRule(rule), address, port), match);
      assert.equal(policy({ allowTargets: [rule] }).decide(address, port, [address]).ok, match);
      assert.equal(policy({ denyTargets: [rule] }).decide(address, port, [address]).ok, !match);
    });
  }
  void it('ports apply to name rules too', () => {
    const p = policy({ allowTargets: ['*.lab.example:22-23'] });
    assert.ok(p.decide('a.lab.example', 23, ['192.0.2.1']).ok);
    assert.equal(denied(p.decide('a.lab.example', 24, ['192.0.2.1'])), 'a.lab.example:24 matches no allow rule');
  });
});

void describe('TargetPolicy.decide', () => {
  void it('empty allow list allows everything not denied, all addresses kept in order', () => {
    const p = policy({});
    assert.deepEqual(allowed(p.decide('ssh.example', 22, ['2001:db8::10', '192.0.2.10'])), ['2001:db8::10', '192.0.2.10']);
    assert.deepEqual(allowed(p.decide('127.0.0.1', 22, ['127.0.0.1'])), ['127.0.0.1']);
    assert.deepEqual(allowed(p.decide('10.1.2.3', 22, ['10.1.2.3'])), ['10.1.2.3']);
  });

  void it('the built-in list always applies, with the legacy reason', () => {
    const p = policy({ allowTargets: ['*', '0.0.0.0/0', '::/0'] });
    for (const ip of ['169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200', '0.0.0.0', '::', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe']) {
      assert.match(denied(p.decide(ip, 22, [ip])), /is in a denied range$/, ip);
    }
    assert.equal(denied(p.decide('meta.example', 22, ['192.0.2.1', '169.254.169.254'])), '169.254.169.254 is in a denied range');
    assert.equal(DEFAULT_DENY.length, 6);
  });

  void it('deny rules: reason names the address or name and the rule', () => {
    const p = policy({ denyTargets: ['10.0.0.0/8', '[fd00::/8]:22', '*.corp.example'] });
    assert.equal(denied(p.decide('10.1.2.3', 22, ['10.1.2.3'])), '10.1.2.3:22 is in deny rule 10.0.0.0/8');
    assert.equal(denied(p.decide('fd12::1', 22, ['fd12::1'])), '[fd12::1]:22 is in deny rule [fd00::/8]:22');
    assert.ok(p.decide('fd12::1', 2222, ['fd12::1']).ok, 'the deny rule is port 22 only');
    assert.equal(denied(p.decide('db.corp.example', 22, ['192.0.2.5'])), 'db.corp.example:22 matches deny rule *.corp.example');
    assert.equal(denied(p.decide('ok.example', 22, ['192.0.2.5', '10.9.9.9'])), '10.9.9.9:22 is in deny rule 10.0.0.0/8', 'one denied address refuses the name');
  });

  void it('IPv4-mapped IPv6 addresses are judged as IPv4, both ways', () => {
    const p = policy({ denyTargets: ['10.0.0.0/8'] });
    for (const a of ['::ffff:10.1.2.3', '::ffff:a01:203', '[::ffff:10.1.2.3]']) {
      assert.equal(denied(p.decide(a, 22, [a])), '10.1.2.3:22 is in deny rule 10.0.0.0/8', a);
    }
    const mappedRule = policy({ denyTargets: ['::ffff:10.0.0.0/104'] });
    assert.equal(denied(mappedRule.decide('10.1.2.3', 22, ['10.1.2.3'])), '10.1.2.3:22 is in deny rule ::ffff:10.0.0.0/104');
    const allow = policy({ allowTargets: ['192.0.2.0/24:22'] });
    assert.deepEqual(allowed(allow.decide('m.example', 22, ['::ffff:192.0.2.9'])), ['192.0.2.9']);
  });

  void it('deny wins over allow, whatever matched', () => {
    const cases: Array<[Partial<TargetPolicyConfig>, string, string[], RegExp]> = [
      [{ allowTargets: ['10.0.0.0/8'], denyTargets: ['10.1.0.0/16'] }, '10.1.2.3', ['10.1.2.3'], /in deny rule 10\.1\.0\.0\/16/],
      [{ allowTargets: ['*.lab.example'], denyTargets: ['10.0.0.0/8:22'] }, 'a.lab.example', ['10.1.2.3'], /10\.1\.2\.3:22 is in deny rule/],
      [{ allowTargets: ['10.0.0.0/8'], denyTargets: ['bad.lab.example'] }, 'bad.lab.example', ['10.1.2.3'], /matches deny rule bad\.lab\.example/],
      [{ allowTargets: ['*'], denyTargets: ['*'] }, 'x.example', ['192.0.2.1'], /matches deny rule \*/],
      [{ allowTargets: ['127.0.0.1'], denyPrivateTargets: true }, '127.0.0.1', ['127.0.0.1'], /private range/],
    ];
    for (const [cfg, host, addrs, reason] of cases) assert.match(denied(policy(cfg).decide(host, 22, addrs)), reason, JSON.stringify(cfg));
  });

  void it('allow by IP: only the covered addresses are permitted; none covered refuses without naming them', () => {
    const p = policy({ allowTargets: ['192.0.2.0/24:22'] });
    assert.deepEqual(allowed(p.decide('dual.example', 22, ['2001:db8::5', '192.0.2.5', '198.51.100.1', '192.0.2.6'])), ['192.0.2.5', '192.0.2.6']);
    assert.equal(denied(p.decide('out.example', 22, ['198.51.100.1'])), 'out.example:22 matches no allow rule');
    assert.equal(denied(p.decide('198.51.100.1', 22, ['198.51.100.1'])), '198.51.100.1:22 matches no allow rule');
    assert.equal(denied(p.decide('192.0.2.5', 2222, ['192.0.2.5'])), '192.0.2.5:2222 matches no allow rule');
  });

  void it('allow by name: every address of the name is permitted (deny still applies)', () => {
    const p = policy({ allowTargets: ['*.lab.example:22'] });
    assert.deepEqual(allowed(p.decide('a.lab.example', 22, ['192.0.2.1', '2001:db8::1'])), ['192.0.2.1', '2001:db8::1']);
    assert.equal(denied(p.decide('lab.example', 22, ['192.0.2.1'])), 'lab.example:22 matches no allow rule');
  });

  void it('deny-private-targets refuses loopback, RFC 1918, ULA and CGNAT, nothing else', () => {
    const p = policy({ denyPrivateTargets: true });
    for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fd12:3456::1', '100.64.0.1', '100.127.255.255', '::ffff:127.0.0.1', '::ffff:c0a8:101']) {
      assert.match(denied(p.decide(ip, 22, [ip])), /is in a private range \(deny-private-targets\)$/, ip);
    }
    for (const ip of ['192.0.2.1', '172.32.0.1', '100.128.0.1', '2001:db8::1', '11.0.0.1', 'fe00::1']) assert.ok(p.decide(ip, 22, [ip]).ok, ip);
    assert.match(denied(p.decide('localhost', 22, ['::1', '127.0.0.1'])), /^::1 is in a private range/);
    assert.ok(policy({}).decide('localhost', 22, ['127.0.0.1']).ok, 'off by default');
    assert.equal(PRIVATE_RANGES.length, 7);
  });

  void it('fails closed on odd input', () => {
    const p = policy({});
    assert.ok(!p.decide('x.example', 22, []).ok);
    assert.ok(!p.decide('x.example', 22, ['not-an-ip']).ok);
  });

  void it('fromConfig names the option of a bad rule', () => {
    assert.throws(() => policy({ allowTargets: ['10.*'] }), /allow-targets.*"10\.\*"/);
    assert.throws(() => policy({ denyTargets: ['ok.example', '999.0.0.1:22'] }), /deny-targets.*"999\.0\.0\.1:22"/);
  });
});

void describe('resolveTarget with a policy', () => {
  type Answer = Array<{ address: string; family: 4 | 6 }>;
  /** A resolver that gives the n-th answer on the n-th call (the last one again after that). */
  const seq = (answers: Answer[]): LookupFn & { readonly calls: number } => {
    let calls = 0;
    const fn = (): Promise<Answer> => Promise.resolve(answers[Math.min(calls++, answers.length - 1)] ?? []);
    return Object.defineProperty(fn, 'calls', { get: () => calls }) as unknown as LookupFn & { readonly calls: number };
  };
  const code = async (p: Promise<unknown>): Promise<[string, string | undefined]> => {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof BridgeError);
      return [err.code, err.detail];
    }
    return ['OK', undefined];
  };

  void it('one lookup, the first permitted address is returned to be dialed', async () => {
    const p = policy({ allowTargets: ['192.0.2.0/24:22'] });
    const lookup = seq([[{ address: '2001:db8::5', family: 6 }, { address: '192.0.2.5', family: 4 }]]);
    assert.deepEqual(await resolveTarget('dual.example', 22, p, lookup), {
      host: 'dual.example', port: 22, address: '192.0.2.5', family: 4, key: '192.0.2.5:22',
    });
    assert.equal(lookup.calls, 1);
  });

  void it('rebinding: each resolution is judged on its own answer, never a cached verdict', async () => {
    const p = policy({ allowTargets: ['192.0.2.0/24'] });
    const lookup = seq([[{ address: '192.0.2.5', family: 4 }], [{ address: '10.0.0.1', family: 4 }]]);
    assert.equal((await resolveTarget('rebind.example', 22, p, lookup)).address, '192.0.2.5');
    assert.deepEqual(await code(resolveTarget('rebind.example', 22, p, lookup)), ['TARGET_DENIED', 'rebind.example:22 matches no allow rule']);
    assert.equal(lookup.calls, 2);
  });

  void it('literals skip DNS; denials are TARGET_DENIED with the reason', async () => {
    const lookup = seq([]);
    const p = policy({ denyTargets: ['192.0.2.0/24'], denyPrivateTargets: true });
    assert.deepEqual(await code(resolveTarget('192.0.2.3', 22, p, lookup)), ['TARGET_DENIED', '192.0.2.3:22 is in deny rule 192.0.2.0/24']);
    assert.deepEqual(await code(resolveTarget('::1', 22, p, lookup)), ['TARGET_DENIED', '::1 is in a private range (deny-private-targets)']);
    assert.equal(lookup.calls, 0);
  });

  void it('an empty answer is still DNS_FAILED, not a policy denial', async () => {
    assert.deepEqual(await code(resolveTarget('empty.example', 22, policy({ allowTargets: ['*'] }), seq([[]]))), ['DNS_FAILED', 'empty.example']);
  });
});
