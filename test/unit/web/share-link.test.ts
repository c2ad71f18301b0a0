/**
 * View links (web/src/share-link.ts): the link the owner copies keeps the page's origin and path
 * but never its query (the owner's `?host=…&user=…`), what a viewer's page reads from a fragment,
 * the gateway's own page, and the expiry a token's payload states. Plain strings in and out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewayHome, linkExpiry, readShareLink, viewLink } from '../../../web/src/share-link.js';

const TOKEN = `0.${Buffer.from(JSON.stringify({ v: 1, s: 'sess', l: 'link', e: 1_900_000_000_000, m: 'view' })).toString('base64url')}.${'A'.repeat(43)}`;

void test('the view link drops the owner page\'s query and fragment, keeps origin and path', () => {
  const link = viewLink(TOKEN, { host: '10.0.0.5', port: 2222 }, 'https://gw.example/ssh/?host=10.0.0.5&port=2222&user=alice#token=secret');
  assert.equal(link, `https://gw.example/ssh/#share=${TOKEN}&target=10.0.0.5%3A2222`);
  assert.ok(!link.includes('alice') && !link.includes('secret') && !link.includes('?'), link);
});

void test('an IPv6 target is bracketed in the link and read back without brackets', () => {
  const link = viewLink(TOKEN, { host: '::1', port: 22 }, 'http://127.0.0.1:8080/');
  assert.equal(link, `http://127.0.0.1:8080/#share=${TOKEN}&target=%5B%3A%3A1%5D%3A22`);
  assert.deepEqual(readShareLink(new URL(link).hash), { token: TOKEN, target: { host: '::1', port: 22 } });
});

void test('readShareLink: no share= is no link; a bad token is an empty one; a bad target is none', () => {
  assert.equal(readShareLink(''), null);
  assert.equal(readShareLink('#token=abc'), null);
  assert.deepEqual(readShareLink('#share=has%20space&target=h:22'), { token: '', target: { host: 'h', port: 22 } });
  assert.deepEqual(readShareLink(`#share=${TOKEN}&target=h:99999`), { token: TOKEN, target: null });
  assert.deepEqual(readShareLink(`#share=${TOKEN}`), { token: TOKEN, target: null });
  assert.deepEqual(readShareLink(`#target=db:22&share=${TOKEN}&token=gw`), { token: TOKEN, target: { host: 'db', port: 22 } });
});

void test('gatewayHome is the page without query or fragment', () => {
  assert.equal(gatewayHome('https://gw.example/ssh/?user=alice#share=x&target=h:22'), 'https://gw.example/ssh/');
  assert.equal(gatewayHome('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080/');
});

void test('linkExpiry reads e from the payload, null for anything else', () => {
  assert.equal(linkExpiry(TOKEN), 1_900_000_000_000);
  assert.equal(linkExpiry('not-a-token'), null);
  assert.equal(linkExpiry('0.!!!.sig'), null);
  assert.equal(linkExpiry(`0.${Buffer.from('{"e":"soon"}').toString('base64url')}.sig`), null);
  assert.equal(linkExpiry(`0.${Buffer.from('[1,2]').toString('base64url')}.sig`), null);
});
