import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appPath, StaticSite } from '../../src/http/static.js';

void test('appPath strips the base path and leaves other paths alone', () => {
  const cases: Array<[string, string, string]> = [
    ['/ws/h/22', '/', '/ws/h/22'],
    ['/ssh/ws/h/22', '/ssh/', '/ws/h/22'],
    ['/ssh/', '/ssh/', '/'],
    ['/ssh', '/ssh/', '/ssh'],
    ['/ssh/assets/app.js', '/ssh/', '/assets/app.js'],
    ['/sshx/assets/app.js', '/ssh/', '/sshx/assets/app.js'],
    ['/ws/h/22', '/ssh/', '/ws/h/22'],
    ['/a/b/c', '/a/b/', '/c'],
  ];
  for (const [path, base, expected] of cases) assert.equal(appPath(path, base), expected, `${path} under ${base}`);
});

void test('StaticSite: an unbuilt page is reported, not served', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-web-'));
  try {
    const site = new StaticSite(dir);
    assert.equal(site.built, false);
    assert.equal(site.has('/'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('StaticSite indexes every file, maps / to index.html and nothing outside the root', () => {
  const dir = mkdtempSync(join(tmpdir(), 'uwsb-web-'));
  try {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'export {}');
    const site = new StaticSite(dir);
    assert.equal(site.built, true);
    for (const p of ['/', '/index.html', '/assets/app.js']) assert.ok(site.has(p), p);
    for (const p of ['/assets', '/../package.json', '/assets/../index.html', '/nope.js']) assert.equal(site.has(p), false, p);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
