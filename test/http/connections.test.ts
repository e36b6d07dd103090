// How the connection caps are sized and keyed (src/http/connections.ts): the default total cap
// follows the open-file limit, and a client is counted by its IPv4 address or its IPv6 /64.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionCap, openFileLimit, peerKey, proxyList } from '../../src/http/connections.js';

describe('the total connection cap', () => {
  it('is --max_connections when set', () => {
    assert.equal(connectionCap(123, 1024), 123);
    assert.equal(connectionCap(50_000, 1024), 50_000);
  });

  it('defaults to three quarters of the open-file limit, leaving the rest for files, within 64 and 10000', () => {
    assert.equal(connectionCap(0, 1024), 768);
    assert.equal(connectionCap(0, 4096), 3072);
    assert.equal(connectionCap(0, 20), 64);
    assert.equal(connectionCap(0, 1_048_576), 10_000);
    assert.equal(connectionCap(0, Infinity), 10_000);
    assert.equal(connectionCap(0, null), 768, 'a limit that cannot be read counts as 1024');
  });

  it('reads this process\'s open-file limit on Linux', () => {
    const limit = openFileLimit();
    assert.ok(limit === null || limit >= 64, String(limit));
  });
});

describe('the per-address count', () => {
  it('keys IPv4 peers, plain or IPv4-mapped, by their address', () => {
    assert.equal(peerKey('203.0.113.7'), '203.0.113.7');
    assert.equal(peerKey('::ffff:203.0.113.7'), '203.0.113.7');
  });

  it('keys IPv6 peers by their /64, however the address is written', () => {
    const key = peerKey('2001:db8:1:2::1');
    assert.equal(key, '2001:db8:1:2::/64');
    for (const same of ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:0:0:0:9', '2001:DB8:1:2::abcd']) assert.equal(peerKey(same), key, same);
    assert.notEqual(peerKey('2001:db8:1:3::1'), key);
    assert.equal(peerKey('::1'), '0:0:0:0::/64');
    assert.equal(peerKey('fe80::1:2:3:4'), 'fe80:0:0:0::/64');
  });

  it('recognises trusted proxies by address or CIDR, and skips entries that are neither', () => {
    const list = proxyList(['10.0.0.1', '192.168.0.0/16', 'fd00::/8', 'loopback']);
    assert.ok(list.check('10.0.0.1', 'ipv4'));
    assert.ok(!list.check('10.0.0.2', 'ipv4'));
    assert.ok(list.check('192.168.44.5', 'ipv4'));
    assert.ok(list.check('fd12::1', 'ipv6'));
    assert.ok(!list.check('2001:db8::1', 'ipv6'));
  });
});
