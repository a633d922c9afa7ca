import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import * as net from 'node:net';
import { once } from 'node:events';
import { parseSubjectAltName, peerIdentity, peerPrincipal } from '../../../src/proxy/listener/peer-identity.js';
import { createTestCa } from '../../support/pki.js';

test('parseSubjectAltName reads URI, DNS and IP SANs, quoted values included', () => {
  assert.deepEqual(parseSubjectAltName('URI:spiffe://td/ns/a/sa/b, DNS:web, IP Address:127.0.0.1, DNS:"x, y"'), {
    uris: ['spiffe://td/ns/a/sa/b'],
    dns: ['web', 'x, y'],
    ips: ['127.0.0.1'],
  });
  assert.deepEqual(parseSubjectAltName(''), { uris: [], dns: [], ips: [] });
});

test('peerPrincipal is the verified client certificate URI SAN; undefined for plaintext and unverified peers', async (t) => {
  const ca = await createTestCa();
  const server = await ca.issue({ dnsNames: ['localhost'] });
  const client = await ca.issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/web' });
  const other = await (await createTestCa('Other')).issue({ spiffeId: 'spiffe://cluster.local/ns/default/sa/evil' });

  const seen: Array<string | undefined> = [];
  const tlsServer = tls.createServer({ cert: server.certPem, key: server.keyPem, ca: ca.certPem, requestCert: true, rejectUnauthorized: false }, (socket) => {
    seen.push(peerPrincipal(socket));
    seen.push(peerIdentity({ socket })?.uriSans.join());
    socket.end('ok');
  });
  tlsServer.listen(0, '127.0.0.1');
  await once(tlsServer, 'listening');
  t.after(() => tlsServer.close());
  const port = (tlsServer.address() as net.AddressInfo).port;

  const connect = async (identity?: { certPem: string; keyPem: string }): Promise<void> => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca: ca.certPem, servername: 'localhost', ...(identity ? { cert: identity.certPem, key: identity.keyPem } : {}) });
    socket.resume();
    await once(socket, 'end');
    socket.destroy();
  };
  await connect(client);
  await connect(other);
  await connect();
  assert.deepEqual(seen, ['spiffe://cluster.local/ns/default/sa/web', 'spiffe://cluster.local/ns/default/sa/web', undefined, undefined, undefined, undefined]);

  const plain = net.createServer((socket) => {
    seen.push(peerPrincipal(socket) ?? 'none');
    socket.end();
  });
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  t.after(() => plain.close());
  const s = net.connect((plain.address() as net.AddressInfo).port, '127.0.0.1');
  s.resume();
  await once(s, 'close');
  assert.equal(seen.at(-1), 'none');
});
