/** identifyProxy: who a node is, from its id and metadata (sidecar capture ports included). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { identifyProxy } from '../../src/controlplane/controller.js';

describe('identifyProxy', () => {
  it('reads a sidecar\'s workload and namespace from metadata, else from an Istio-style node id', () => {
    assert.deepEqual(identifyProxy('sidecar~reviews-v2.bookinfo', {}), { nodeId: 'sidecar~reviews-v2.bookinfo', kind: 'sidecar', workload: 'reviews-v2', namespace: 'bookinfo' });
    assert.deepEqual(identifyProxy('any', { WORKLOAD: 'details-v1', NAMESPACE: 'shop' }), { nodeId: 'any', kind: 'sidecar', workload: 'details-v1', namespace: 'shop' });
    assert.deepEqual(identifyProxy('grpc-client-1', {}), { nodeId: 'grpc-client-1', kind: 'proxyless', namespace: 'default' });
  });

  it('takes a sidecar\'s capture ports from OUTBOUND_PORT / INBOUND_PORT, as numbers or strings, defaulting the missing one', () => {
    const sidecar = (metadata: Record<string, unknown>) => identifyProxy('sidecar~web.default', metadata).capturePorts;
    assert.deepEqual(sidecar({ OUTBOUND_PORT: '15101', INBOUND_PORT: '15106' }), { outbound: 15101, inbound: 15106 });
    assert.deepEqual(sidecar({ OUTBOUND_PORT: 25001, INBOUND_PORT: 25006 }), { outbound: 25001, inbound: 25006 });
    assert.deepEqual(sidecar({ INBOUND_PORT: '16006' }), { outbound: 15001, inbound: 16006 });
    assert.equal(sidecar({}), undefined, 'no metadata: translate\'s defaults apply');
  });

  it('ignores capture ports that are not ports', () => {
    const sidecar = (metadata: Record<string, unknown>) => identifyProxy('sidecar~web.default', metadata).capturePorts;
    assert.equal(sidecar({ OUTBOUND_PORT: '0', INBOUND_PORT: 'http' }), undefined);
    assert.deepEqual(sidecar({ OUTBOUND_PORT: 70000, INBOUND_PORT: '15106' }), { outbound: 15001, inbound: 15106 });
    assert.deepEqual(sidecar({ OUTBOUND_PORT: '1.5e4', INBOUND_PORT: 15006.5 }), undefined);
  });
});
