import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, parseCidr } from '../../src/lib/cidr.js';

describe('cidr', () => {
  it('IPv4 ranges at byte and bit boundaries', () => {
    const r = parseCidr('192.168.1.77', 20);
    assert.ok(cidrContains(r, '192.168.0.1'));
    assert.ok(cidrContains(r, '192.168.15.255'));
    assert.ok(!cidrContains(r, '192.168.16.0'));
    assert.ok(cidrContains(parseCidr('0.0.0.0', 0), '8.8.8.8'));
    assert.ok(cidrContains(parseCidr('1.2.3.4', 32), '1.2.3.4'));
    assert.ok(!cidrContains(parseCidr('1.2.3.4', 32), '1.2.3.5'));
  });

  it('IPv6, compressed forms, embedded IPv4 and zones', () => {
    const r = parseCidr('2001:db8::', 32);
    assert.ok(cidrContains(r, '2001:db8:ffff::1'));
    assert.ok(!cidrContains(r, '2001:db9::1'));
    assert.ok(cidrContains(parseCidr('::1', 128), '0:0:0:0:0:0:0:1'));
    assert.ok(cidrContains(parseCidr('fe80::', 10), 'fe80::1%eth0'));
    assert.ok(cidrContains(parseCidr('::ffff:0:0', 96), '::ffff:10.0.0.1'));
  });

  it('IPv4 ranges match IPv4-mapped IPv6 peers, not other IPv6 or garbage', () => {
    const r = parseCidr('127.0.0.0', 8);
    assert.ok(cidrContains(r, '::ffff:127.0.0.1'));
    assert.ok(!cidrContains(r, '::1'));
    assert.ok(!cidrContains(r, 'not-an-ip'));
  });

  it('rejects bad input', () => {
    assert.throws(() => parseCidr('10.0.0', 8), /not an IPv4 or IPv6 address/);
    assert.throws(() => parseCidr('::', 129), /out of range 0-128/);
  });
});
