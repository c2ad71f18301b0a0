/**
 * Operator routes, the parts without a server: the `--jump-route` spec grammar
 * (src/grammar/jump-route.ts), the option's parsing (flag repeated, env, file), the route store's
 * matching, key loading and reload (src/ssh/route-keys.ts, with key files on disk), and
 * resolveRoute choosing the route's bastion as hop 1 (a stub lookup, no DNS).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../src/config/loader.js';
import { BridgeError } from '../../src/errors.js';
import { parseJumpRoute, routeCovers } from '../../src/grammar/jump-route.js';
import { TargetRuleError } from '../../src/grammar/target-rule.js';
import { JumpRoutes } from '../../src/ssh/route-keys.js';
import { resolveRoute } from '../../src/policy/route.js';
import { TargetPolicy } from '../../src/policy/target-rules.js';
import type { LookupFn } from '../../src/policy/target.js';
import { registerSecret } from '../helpers/secrets.js';

const parseError = (text: string): string => {
  try {
    parseJumpRoute(text);
  } catch (err) {
    return err instanceof TargetRuleError ? err.message : `not a TargetRuleError: ${String(err)}`;
  }
  return 'no error';
};

void describe('operator route specs', () => {
  void it('reads RULE via USER@HOST[:PORT] key=FILE [passphrase-file=FILE]', () => {
    const r = parseJumpRoute('  *.lab.example:22  via ops@Bastion.Example:2222 key=/etc/uwsb/id passphrase-file=/etc/uwsb/pass ');
    assert.equal(r.text, '*.lab.example:22  via ops@Bastion.Example:2222 key=/etc/uwsb/id passphrase-file=/etc/uwsb/pass');
    assert.equal(r.rule.kind, 'name');
    assert.deepEqual({ user: r.user, host: r.host, port: r.port, keyFile: r.keyFile, passphraseFile: r.passphraseFile },
      { user: 'ops', host: 'bastion.example', port: 2222, keyFile: '/etc/uwsb/id', passphraseFile: '/etc/uwsb/pass' });
    const v6 = parseJumpRoute('[fd00::/8]:22 via jump@[2001:db8::1] key=k');
    assert.deepEqual([v6.rule.kind, v6.host, v6.port, v6.passphraseFile], ['ip', '2001:db8::1', 22, null]);
    assert.equal(parseJumpRoute('10.0.0.0/8 via a@192.0.2.1:22 key=k').host, '192.0.2.1');
  });

  void it('covers a target as given: a name by a name glob, an IP literal by a CIDR, never one for the other', () => {
    const names = parseJumpRoute('*.lab.example:22-23 via u@b key=k');
    assert.ok(routeCovers(names, 'db.lab.example', 22));
    assert.ok(routeCovers(names, 'A.B.Lab.Example.', 23));
    assert.ok(!routeCovers(names, 'db.lab.example', 2222));
    assert.ok(!routeCovers(names, 'lab.example', 22));
    const ips = parseJumpRoute('[fd00::/8]:22 via u@b key=k');
    assert.ok(routeCovers(ips, 'fd00::5', 22));
    assert.ok(!routeCovers(ips, 'fd00.lab', 22));
    const v4 = parseJumpRoute('10.0.0.0/8 via u@b key=k');
    assert.ok(routeCovers(v4, '::ffff:10.9.9.9', 2222));
    assert.ok(!routeCovers(v4, '10.lab', 22));
  });

  void it('refuses a malformed spec, naming it and what is wrong', () => {
    for (const [bad, why] of [
      ['', /expected RULE via/], ['*.lab', /expected RULE via/], ['*.lab to ops@b key=k', /expected RULE via/],
      ['*.lab via ops@b', /key=FILE is required/], ['*.lab via b key=k', /needs a user/], ['*.lab via @b key=k', /needs a user/],
      ['999.1.1.1 via ops@b key=k', /rule: .*IPv4/], ['*.lab:0 via ops@b key=k', /rule: .*1-65535/],
      ['*.lab via ops@b:70000 key=k', /outside 1-65535/], ['*.lab via ops@b:0 key=k', /outside 1-65535/], ['*.lab via ops@[b] key=k', /brackets/],
      ['*.lab via ops@b c key=k', /unknown "c"/], ['*.lab via ops@b key=', /needs a file path/], ['*.lab via ops@b key=a key=b', /given twice/],
      ['*.lab via ops@b key=k pass=x', /unknown "pass"/], ['*.lab via o p@b key=k', /needs a user/], ['*.lab via ops@b_/c key=k', /not a host name/],
    ] as const) {
      const got = parseError(bad);
      assert.ok(got !== 'no error' && why.test(got), `${JSON.stringify(bad)}: ${got}`);
    }
  });

  void it('is an option: repeated flag, comma- or newline-separated env, a file array; a bad spec names jump-route', () => {
    const a = '*.a via u@b1 key=/k1';
    const b = '10.0.0.0/8:22 via u@b2:2200 key=/k2';
    const flags = loadConfig(['--jump-route', a, `--jump-route=${b}`], {}, () => '');
    assert.ok(flags.kind === 'config');
    assert.deepEqual(flags.config.jumpRoutes, [a, b]);
    const env = loadConfig([], { UWSB_JUMP_ROUTE: `${a},${b}` }, () => '');
    assert.ok(env.kind === 'config');
    assert.deepEqual(env.config.jumpRoutes, [a, b]);
    const file = loadConfig(['--config', 'c.json'], {}, () => JSON.stringify({ 'jump-route': [a, b] }));
    assert.ok(file.kind === 'config');
    assert.deepEqual(file.config.jumpRoutes, [a, b]);
    assert.throws(() => loadConfig(['--jump-route', '*.a via b key=/k'], {}, () => ''), (err: unknown) =>
      err instanceof ConfigError && err.option === 'jump-route' && /needs a user/.test(err.message));
  });
});

void describe('the operator route store', () => {
  let dir = '';
  let keyA = '';
  let keyB = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'uwsb-jump-route-'));
    for (const name of ['a', 'b']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, name)], { stdio: 'pipe' });
    keyA = registerSecret(readFileSync(join(dir, 'a'), 'utf8'));
    keyB = registerSecret(readFileSync(join(dir, 'b'), 'utf8'));
    writeFileSync(join(dir, 'id'), keyA, { mode: 0o600 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const spec = (rule: string, host: string): string => `${rule} via ops@${host} key=${join(dir, 'id')}`;

  void it('matches the first route covering the target as given: names by name rules, literals by IP rules', () => {
    const routes = JumpRoutes.fromConfig({ jumpRoutes: [spec('*.lab:22', 'b1'), spec('*.lab', 'b2'), spec('10.0.0.0/8', 'b3')] });
    assert.equal(routes.size, 3);
    assert.equal(routes.match('db.lab', 22)?.spec.host, 'b1');
    assert.equal(routes.match('DB.Lab.', 2222)?.spec.host, 'b2');
    assert.equal(routes.match('10.1.2.3', 22)?.spec.host, 'b3');
    assert.equal(routes.match('::ffff:10.1.2.3', 22)?.spec.host, 'b3');
    assert.equal(routes.match('db.example', 22), null);
    assert.equal(routes.match('192.0.2.1', 22), null);
    const login = routes.match('db.lab', 22)?.login;
    assert.equal(login?.username, 'ops');
    assert.ok(login?.auth.method === 'publickey' && login.auth.privateKey === keyA);
  });

  void it('refuses at start a route whose key is missing or not a key, naming the option and the file, never the key', () => {
    assert.throws(() => JumpRoutes.fromConfig({ jumpRoutes: [`*.lab via ops@b key=${join(dir, 'missing')}`] }),
      (err: unknown) => err instanceof TargetRuleError && /jump-route/.test(err.message) && /missing: ENOENT/.test(err.message));
    writeFileSync(join(dir, 'junk'), 'not a key');
    assert.throws(() => JumpRoutes.fromConfig({ jumpRoutes: [`*.lab via ops@b key=${join(dir, 'junk')}`] }),
      (err: unknown) => err instanceof TargetRuleError && /junk: SSH_KEY_INVALID/.test(err.message) && !err.message.includes('not a key'));
  });

  void it('reload swaps in a rewritten key; a key that fails keeps the old one and is reported', () => {
    const routes = JumpRoutes.fromConfig({ jumpRoutes: [spec('*.lab', 'b1')] });
    const key = (): string | undefined => {
      const auth = routes.match('x.lab', 22)?.login.auth;
      return auth?.method === 'publickey' ? auth.privateKey : undefined;
    };
    assert.equal(key(), keyA);
    writeFileSync(join(dir, 'id'), keyB);
    assert.deepEqual(routes.reload(), []);
    assert.equal(key(), keyB);
    writeFileSync(join(dir, 'id'), 'garbage');
    const failures = routes.reload();
    assert.equal(failures.length, 1);
    assert.match(failures[0] ?? '', /jump-route key .*id: SSH_KEY_INVALID/);
    assert.equal(key(), keyB, 'the old key stays');
    writeFileSync(join(dir, 'id'), keyA);
  });

  void it('resolveRoute: a routed target goes through the bastion (hop 1, judged like a direct target); others go direct', async () => {
    const routes = JumpRoutes.fromConfig({ jumpRoutes: [spec('*.lab', 'bastion.example:2222')] });
    const lookup: LookupFn = (host) => Promise.resolve(host === 'bastion.example' ? [{ address: '192.0.2.10', family: 4 }] : [{ address: '192.0.2.20', family: 4 }]);
    const policy = TargetPolicy.fromConfig({ allowTargets: [], denyTargets: ['192.0.2.20'], denyPrivateTargets: false });
    const routed = await resolveRoute({ host: 'db.lab', port: 22 }, [], policy, lookup, routes);
    assert.equal(routed.target.address, 'db.lab', 'the target is the bastion\'s to resolve');
    assert.equal(routed.jump?.first.address, '192.0.2.10');
    assert.equal(routed.jump?.first.port, 2222);
    assert.deepEqual(routed.jump?.later, []);
    assert.equal(routed.jump?.login?.username, 'ops');
    const direct = await resolveRoute({ host: 'db.example', port: 22 }, [], TargetPolicy.fromConfig({ allowTargets: [], denyTargets: [], denyPrivateTargets: false }), lookup, routes);
    assert.equal(direct.jump, null);
    assert.equal(direct.target.address, '192.0.2.20');
    await assert.rejects(resolveRoute({ host: 'db.lab', port: 22 }, [{ host: 'other', port: 22 }], policy, lookup, routes),
      (err: unknown) => err instanceof BridgeError && err.code === 'BAD_JUMP' && /operator route/.test(err.detail ?? ''));
    const denyBastion = TargetPolicy.fromConfig({ allowTargets: [], denyTargets: ['192.0.2.10'], denyPrivateTargets: false });
    await assert.rejects(resolveRoute({ host: 'db.lab', port: 22 }, [], denyBastion, lookup, routes),
      (err: unknown) => err instanceof BridgeError && err.code === 'TARGET_DENIED' && /^hop 1 \(bastion\.example:2222\)/.test(err.detail ?? ''));
    const jumpTargets = TargetPolicy.fromConfig({ allowTargets: [], denyTargets: [], denyPrivateTargets: false, jumpTargets: ['*.other'] });
    await assert.rejects(resolveRoute({ host: 'db.lab', port: 22 }, [], jumpTargets, lookup, routes),
      (err: unknown) => err instanceof BridgeError && err.code === 'TARGET_DENIED' && /^target: .*jump-targets/.test(err.detail ?? ''));
  });
});
