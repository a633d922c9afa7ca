import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HttpConnectionManagerConfig } from '../../../src/proxy/config/types.js';
import { HeaderMap } from '../../../src/proxy/http1/headers.js';
import { isInternalRequest } from '../../../src/proxy/http1/internal-request.js';

function config(useRemoteAddress: boolean, skipXffAppend = false): HttpConnectionManagerConfig {
  // Only the two x-forwarded-for switches are read.
  return { useRemoteAddress, skipXffAppend } as HttpConnectionManagerConfig;
}

function xff(...values: string[]): HeaderMap {
  const headers = new HeaderMap();
  for (const value of values) headers.add('x-forwarded-for', value);
  return headers;
}

describe('isInternalRequest (Envoy header sanitizing rule)', () => {
  it('without use_remote_address and without x-forwarded-for, even a loopback peer is external', () => {
    assert.equal(isInternalRequest(xff(), config(false), '127.0.0.1'), false);
  });

  it('one internal x-forwarded-for address is internal; a public one, or a chain, is external', () => {
    for (const address of ['10.1.2.3', '172.20.0.1', '192.168.9.9', '127.0.0.1', '::1', 'fd12::1']) assert.equal(isInternalRequest(xff(address), config(false), '203.0.113.1'), true, address);
    assert.equal(isInternalRequest(xff('203.0.113.9'), config(false), '127.0.0.1'), false);
    assert.equal(isInternalRequest(xff('10.0.0.1, 10.0.0.2'), config(false), '127.0.0.1'), false);
    assert.equal(isInternalRequest(xff('10.0.0.1', '10.0.0.2'), config(false), '127.0.0.1'), false);
    assert.equal(isInternalRequest(xff('not-an-ip'), config(false), '127.0.0.1'), false);
  });

  it('with use_remote_address the appended peer decides when the client sent none', () => {
    // The HCM has already appended the peer here.
    assert.equal(isInternalRequest(xff('127.0.0.1'), config(true), '127.0.0.1'), true);
    assert.equal(isInternalRequest(xff('10.0.0.1, 127.0.0.1'), config(true), '127.0.0.1'), false);
    assert.equal(isInternalRequest(xff(), config(true, true), '10.0.0.5'), true);
    assert.equal(isInternalRequest(xff(), config(true, true), '198.51.100.5'), false);
    assert.equal(isInternalRequest(xff('10.0.0.1'), config(true, true), '10.0.0.5'), false);
  });
});
