/**
 * The authorization matrix: SMI TrafficTargets, translated by the control
 * plane's translator for a STRICT-mTLS Mesh, enforced by real `weft proxy`
 * processes in front of each destination, with curl (HTTP) and a TLS socket
 * (TCP) as the sources, each presenting its own SPIFFE certificate from one
 * test CA. Every source x destination x route cell is tried; exactly the cells
 * the TrafficTargets allow get through (HTTP 200 / TCP echo), the others get
 * 403 `RBAC: access denied` or a closed connection, and the proxies count each
 * denial (`rbac.denied`). A source without a certificate gets no further than
 * the handshake.
 *
 * The destination's listener is exactly as translated; only its SDS secret
 * references are served from static secrets (the certificate the CA would have
 * issued to its workload, and the trust bundle) instead of over ADS.
 */
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { Resource } from '../../src/controlplane/model/resource.js';
import { spiffeId } from '../../src/controlplane/translate/authorization.js';
import { SDS_CERTIFICATE, SDS_TRUST_BUNDLE } from '../../src/controlplane/translate/mtls.js';
import { translateForProxy } from '../../src/controlplane/translate/translate.js';
import { httpRouteGroup, resource, service, SIDECAR, workload } from '../controlplane/translate/fixtures.js';
import { toStaticBootstrap } from '../controlplane/translate/static-bootstrap.js';
import { createTestCa, pemDir, type KeyAndCert, type TestCa } from '../support/pki.js';
import { curl, freePorts, startEchoServer, startProxy, startUpstream, statValue, type ProxyProcess } from './harness.js';

const TRUST_DOMAIN = 'cluster.local';

/** A source: its service account, proven by the certificate it presents. */
interface Source {
  serviceAccount: string;
}

const SOURCES: readonly Source[] = [{ serviceAccount: 'productpage' }, { serviceAccount: 'reviews' }, { serviceAccount: 'intruder' }];

type Cell = { kind: 'http'; destination: string; method: string; path: string } | { kind: 'tcp'; destination: string };

const CELLS: readonly Cell[] = [
  { kind: 'http', destination: 'reviews', method: 'GET', path: '/reviews/1' },
  { kind: 'http', destination: 'reviews', method: 'POST', path: '/reviews/1' },
  { kind: 'http', destination: 'reviews', method: 'GET', path: '/admin' },
  { kind: 'http', destination: 'ratings', method: 'GET', path: '/ratings/7' },
  { kind: 'http', destination: 'ratings', method: 'GET', path: '/health' },
  { kind: 'tcp', destination: 'mysql' },
];

/** The intent, written as people state it; the TrafficTargets below must give exactly this. */
const ALLOWED = new Set([
  'productpage GET /reviews/1',
  'reviews GET /ratings/7',
  'productpage GET /health', // the health rule lets productpage and reviews probe ratings
  'reviews GET /health',
  'reviews mysql',
]);

function cellName(source: Source, cell: Cell): string {
  return cell.kind === 'http' ? `${source.serviceAccount} ${cell.method} ${cell.path}` : `${source.serviceAccount} ${cell.destination}`;
}

function meshResources(ports: { reviews: number; ratings: number; mysql: number }): Resource[] {
  const sa = (name: string) => ({ kind: 'ServiceAccount', name });
  const target = (name: string, spec: unknown) => resource('access.smi-spec.io/v1alpha3', 'TrafficTarget', name, spec);
  return [
    resource('mesh.weft.dev/v1alpha1', 'Mesh', 'default', { trustDomain: TRUST_DOMAIN, mtls: { mode: 'STRICT' } }, ''),
    service('reviews', { ports: [{ name: 'http', port: 9080, protocol: 'http' }] }),
    workload('reviews-1', { address: '127.0.0.1', service: 'reviews', serviceAccount: 'reviews', ports: [{ name: 'http', port: ports.reviews }] }),
    service('ratings', { ports: [{ name: 'http', port: 9080, protocol: 'http' }] }),
    workload('ratings-1', { address: '127.0.0.1', service: 'ratings', serviceAccount: 'ratings', ports: [{ name: 'http', port: ports.ratings }] }),
    service('mysql', { ports: [{ name: 'db', port: 3306, protocol: 'tcp' }] }),
    workload('mysql-1', { address: '127.0.0.1', service: 'mysql', serviceAccount: 'mysql', ports: [{ name: 'db', port: ports.mysql }] }),
    httpRouteGroup('bookinfo-api', {
      matches: [
        { name: 'read-reviews', pathRegex: '/reviews/[0-9]+', methods: ['GET'] },
        { name: 'read-ratings', pathRegex: '/ratings/[0-9]+', methods: ['GET'] },
        { name: 'health', pathRegex: '/health$' },
      ],
    }),
    resource('specs.smi-spec.io/v1alpha4', 'TCPRoute', 'mysql', { matches: { ports: [3306] } }),
    target('productpage-reads-reviews', { destination: sa('reviews'), rules: [{ kind: 'HTTPRouteGroup', name: 'bookinfo-api', matches: ['read-reviews'] }], sources: [sa('productpage')] }),
    target('reviews-reads-ratings', { destination: sa('ratings'), rules: [{ kind: 'HTTPRouteGroup', name: 'bookinfo-api', matches: ['read-ratings'] }], sources: [sa('reviews')] }),
    target('ratings-health', { destination: sa('ratings'), rules: [{ kind: 'HTTPRouteGroup', name: 'bookinfo-api', matches: ['health'] }], sources: [sa('productpage'), sa('reviews')] }),
    target('reviews-uses-mysql', { destination: sa('mysql'), rules: [{ kind: 'TCPRoute', name: 'mysql' }], sources: [sa('reviews')] }),
  ];
}

/** A translated listener as the proxy's ADS client resolves it: its SDS secret references served by name from static secrets. */
function withStaticSecrets(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withStaticSecrets);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).filter(([k]) => k !== 'sds_config').map(([k, v]) => [k, withStaticSecrets(v)]));
}

/** The destination workload's sidecar config as the control plane translates it: its inbound listener and clusters, on free ports. */
async function destinationProxy(resources: Resource[], workloadName: string, ca: TestCa, identity: KeyAndCert): Promise<{ proxy: ProxyProcess; port: number; listener: string }> {
  const [inbound, outbound, admin] = (await freePorts(3)) as [number, number, number];
  const xds = translateForProxy({ ...SIDECAR, workload: workloadName, capturePorts: { inbound, outbound } }, resources);
  const bootstrap = toStaticBootstrap(xds) as { static_resources: { listeners: Array<Record<string, unknown>>; clusters: Array<Record<string, unknown>> } };
  const name = `inbound_0.0.0.0_${inbound}`;
  const listener = bootstrap.static_resources.listeners.find((l) => l['name'] === name);
  assert.ok(listener, `${workloadName} has an inbound listener`);
  assert.match(JSON.stringify(listener), /DownstreamTlsContext/, `${workloadName}'s inbound listener is mTLS (STRICT)`);
  const local = { ...(withStaticSecrets(listener) as Record<string, unknown>), address: { socket_address: { address: '127.0.0.1', port_value: inbound } } };
  const proxy = await startProxy({
    node: { id: `sidecar~127.0.0.1~${workloadName}.default`, cluster: workloadName },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: admin } } },
    static_resources: {
      listeners: [local],
      clusters: bootstrap.static_resources.clusters.filter((c) => String(c['name']).startsWith('inbound|')),
      secrets: [
        { name: SDS_CERTIFICATE, tls_certificate: { certificate_chain: { inline_string: identity.certPem }, private_key: { inline_string: identity.keyPem } } },
        { name: SDS_TRUST_BUNDLE, validation_context: { trusted_ca: { inline_string: ca.certPem } } },
      ],
    },
  });
  return { proxy, port: inbound, listener: name };
}

/** 'allowed' when bytes came back through the proxy; 'closed' when the proxy closed the connection first. */
async function tcpExchange(port: number, client: KeyAndCert): Promise<'allowed' | 'closed'> {
  // Server verification is not what the matrix is about (the SPIFFE certificate has no host name to check).
  const socket = tls.connect({ port, host: '127.0.0.1', cert: client.certPem, key: client.keyPem, rejectUnauthorized: false });
  socket.on('error', () => undefined);
  let echoed = '';
  socket.on('data', (chunk: Buffer) => (echoed += chunk.toString()));
  socket.write('ping\n');
  // An allowed connection stays open (the echo server never closes it): 3 s of it is enough to see the echo.
  await Promise.race([new Promise((resolve) => socket.once('close', resolve)), new Promise((resolve) => setTimeout(resolve, 3000))]);
  socket.destroy();
  return echoed === 'ping\n' ? 'allowed' : 'closed';
}

describe('authorization matrix: TrafficTargets enforced by the destination sidecars', () => {
  const upstreams: Array<{ close(): Promise<void> }> = [];
  const proxies = new Map<string, { proxy: ProxyProcess; port: number; listener: string }>();
  const pems = pemDir();
  /** Each source's certificate and key files, for curl. */
  const credentials = new Map<string, { identity: KeyAndCert; cert: string; key: string }>();

  before(async () => {
    const ca = await createTestCa('Mesh Root');
    const issue = (sa: string): Promise<KeyAndCert> => ca.issue({ spiffeId: spiffeId(TRUST_DOMAIN, 'default', sa) });
    for (const { serviceAccount } of SOURCES) {
      const identity = await issue(serviceAccount);
      credentials.set(serviceAccount, { identity, cert: pems.write(`${serviceAccount}.crt`, identity.certPem), key: pems.write(`${serviceAccount}.key`, identity.keyPem) });
    }
    const reviews = await startUpstream(undefined, 'reviews');
    const ratings = await startUpstream(undefined, 'ratings');
    const mysql = await startEchoServer('mysql');
    upstreams.push(reviews, ratings, mysql);
    const resources = meshResources({ reviews: reviews.port, ratings: ratings.port, mysql: mysql.port });
    for (const [destination, workloadName] of [['reviews', 'reviews-1'], ['ratings', 'ratings-1'], ['mysql', 'mysql-1']] as const) {
      proxies.set(destination, await destinationProxy(resources, workloadName, ca, await issue(destination)));
    }
  });

  after(async () => {
    await Promise.all([...proxies.values()].map(({ proxy }) => proxy.stop()));
    await Promise.all(upstreams.map((u) => u.close()));
    pems.cleanup();
  });

  it('gives exactly the allowed cells 200 (or a working TCP connection) and the others 403 / a closed connection', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const source of SOURCES) {
      for (const cell of CELLS) {
        const { port } = proxies.get(cell.destination)!;
        const name = cellName(source, cell);
        const allowed = ALLOWED.has(name);
        if (cell.kind === 'http') {
          const { cert, key } = credentials.get(source.serviceAccount)!;
          // -k: the server's SPIFFE certificate names no host; what is tested is the client's identity.
          const res = await curl(['-s', '-k', '--http1.1', '--cert', cert, '--key', key, '-X', cell.method, '-w', '\n%{http_code}', '--max-time', '10', `https://127.0.0.1:${port}${cell.path}`]);
          assert.equal(res.code, 0, `${name}: ${res.stderr}`);
          const split = res.stdout.lastIndexOf('\n');
          const status = res.stdout.slice(split + 1);
          outcomes.push(`${name} -> ${status}`);
          expected.push(`${name} -> ${allowed ? '200' : '403'}`);
          if (!allowed) assert.equal(res.stdout.slice(0, split), 'RBAC: access denied', name);
        } else {
          outcomes.push(`${name} -> ${await tcpExchange(port, credentials.get(source.serviceAccount)!.identity)}`);
          expected.push(`${name} -> ${allowed ? 'allowed' : 'closed'}`);
        }
      }
    }
    assert.deepEqual(outcomes, expected);
  });

  it('lets no source without a certificate past the handshake', async () => {
    for (const destination of ['reviews', 'ratings']) {
      const res = await curl(['-s', '-k', '--http1.1', '-w', '%{http_code}', '--max-time', '10', `https://127.0.0.1:${proxies.get(destination)!.port}/health`]);
      assert.notEqual(res.code, 0, `${destination}: answered ${res.stdout}`);
    }
  });

  it('counts every decision: rbac.allowed / rbac.denied per destination', async () => {
    const count = (destination: string, allowed: boolean): number =>
      SOURCES.flatMap((s) => CELLS.filter((c) => c.destination === destination).map((c) => ALLOWED.has(cellName(s, c)) === allowed)).filter(Boolean).length;
    for (const destination of ['reviews', 'ratings']) {
      const { proxy, listener } = proxies.get(destination)!;
      assert.equal(await statValue(proxy, `http.${listener}.rbac.denied`), count(destination, false), `${destination} denied`);
      assert.equal(await statValue(proxy, `http.${listener}.rbac.allowed`), count(destination, true), `${destination} allowed`);
    }
    const mysql = proxies.get('mysql')!.proxy;
    assert.equal(await statValue(mysql, 'inbound_tcp.rbac.denied'), count('mysql', false));
    assert.equal(await statValue(mysql, 'inbound_tcp.rbac.allowed'), count('mysql', true));
  });
});
