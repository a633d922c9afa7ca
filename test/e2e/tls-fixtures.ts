/**
 * Envoy bootstrap fragments for the TLS end-to-end tests and the mtls
 * benchmark: TLS transport sockets, SDS secrets by name, and the two sidecars
 * (client: plaintext in, mTLS out; server: mTLS in, plaintext to the app).
 */
import { execFile, execFileSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { createTestCa, type KeyAndCert, type TestCa } from '../support/pki.js';

export const DOWNSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
export const UPSTREAM_TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
export const TLS_INSPECTOR = 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector';
const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

export const spiffe = (sa: string): string => `spiffe://cluster.local/ns/default/sa/${sa}`;

/** A Secret with a certificate (and key) and one with a CA bundle. */
export function certificateSecret(name: string, identity: KeyAndCert): Record<string, unknown> {
  return { name, tls_certificate: { certificate_chain: { inline_string: identity.certPem }, private_key: { inline_string: identity.keyPem } } };
}

export function validationSecret(name: string, caBundle: string, sans: string[] = []): Record<string, unknown> {
  return {
    name,
    validation_context: {
      trusted_ca: { inline_string: caBundle },
      ...(sans.length > 0 ? { match_typed_subject_alt_names: sans.map((exact) => ({ san_type: 'URI', matcher: { exact } })) } : {}),
    },
  };
}

/** A CommonTlsContext naming its certificate and CA secrets. */
export function commonTls(certSecret: string, caSecret: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tls_certificate_sds_secret_configs: [{ name: certSecret }],
    validation_context_sds_secret_config: { name: caSecret },
    ...extra,
  };
}

export function downstreamTls(common: Record<string, unknown>, requireClientCertificate = true): Record<string, unknown> {
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': DOWNSTREAM_TLS, common_tls_context: common, require_client_certificate: requireClientCertificate } };
}

export function upstreamTls(common: Record<string, unknown>, sni?: string): Record<string, unknown> {
  return { name: 'envoy.transport_sockets.tls', typed_config: { '@type': UPSTREAM_TLS, common_tls_context: common, ...(sni !== undefined ? { sni } : {}) } };
}

export function hcmFilter(cluster: string, statPrefix = 'ingress'): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': HCM,
      stat_prefix: statPrefix,
      route_config: { name: 'local', virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
    },
  };
}

export function staticCluster(name: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
    ...extra,
  };
}

export function listener(name: string, port: number, filterChains: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, address: { socket_address: { address: '127.0.0.1', port_value: port } }, filter_chains: filterChains, ...extra };
}

export function bootstrap(adminPort: number, resources: { listeners: unknown[]; clusters: unknown[]; secrets?: unknown[] }): Record<string, unknown> {
  return {
    node: { id: 'tls-test', cluster: 'tls-test' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: adminPort } } },
    static_resources: { listeners: resources.listeners, clusters: resources.clusters, secrets: resources.secrets ?? [] },
  };
}

export interface SidecarPki {
  caBundle: string;
  server: KeyAndCert;
  client: KeyAndCert;
}

/** The server sidecar: mTLS in on `port` (client certificate required, SPIFFE ID checked), plaintext to the app. */
export function serverSidecar(adminPort: number, port: number, appPort: number, pki: SidecarPki, allowed: string[] = [spiffe('client')]): Record<string, unknown> {
  return bootstrap(adminPort, {
    listeners: [listener('inbound', port, [{ filters: [hcmFilter('app', 'inbound')], transport_socket: downstreamTls(commonTls('cert', 'ca', { alpn_protocols: ['h2', 'http/1.1'] })) }])],
    clusters: [staticCluster('app', appPort)],
    secrets: [certificateSecret('cert', pki.server), validationSecret('ca', pki.caBundle, allowed)],
  });
}

/** The client sidecar: plaintext in on `port`, mTLS out to the server sidecar, verifying its SPIFFE ID. */
export function clientSidecar(adminPort: number, port: number, serverPort: number, pki: SidecarPki, expectServer = spiffe('server'), clusterExtra: Record<string, unknown> = {}): Record<string, unknown> {
  return bootstrap(adminPort, {
    listeners: [listener('outbound', port, [{ filters: [hcmFilter('server', 'outbound')] }])],
    clusters: [staticCluster('server', serverPort, { transport_socket: upstreamTls(commonTls('cert', 'ca', { alpn_protocols: ['http/1.1'] }), 'server.default.svc'), ...clusterExtra })],
    secrets: [certificateSecret('cert', pki.client), validationSecret('ca', pki.caBundle, [expectServer])],
  });
}

// --- PKI and independent clients for the TLS tests ---------------------------------------------

const DAY_MS = 86_400_000;

export interface Identities {
  ca: TestCa;
  other: TestCa;
  server: KeyAndCert;
  client: KeyAndCert;
  expired: KeyAndCert;
  foreign: KeyAndCert;
  wrongId: KeyAndCert;
}

export async function identities(): Promise<Identities> {
  const ca = await createTestCa('Mesh Root');
  const other = await createTestCa('Other Root');
  return {
    ca,
    other,
    server: await ca.issue({ spiffeId: spiffe('server'), dnsNames: ['localhost'] }),
    client: await ca.issue({ spiffeId: spiffe('client') }),
    expired: await ca.issue({ spiffeId: spiffe('client'), notBefore: new Date(Date.now() - 3 * DAY_MS), notAfter: new Date(Date.now() - DAY_MS) }),
    foreign: await other.issue({ spiffeId: spiffe('client') }),
    wrongId: await ca.issue({ spiffeId: spiffe('evil') }),
  };
}

/** A certificate's serial and validity as openssl (not node) reads them, in admin /certs's shape. */
export function opensslDetails(pem: string): { serial_number: string; valid_from: string; expiration_time: string } {
  const out = execFileSync('openssl', ['x509', '-noout', '-serial', '-startdate', '-enddate'], { input: pem, encoding: 'utf8' });
  const field = (name: string): string => out.match(new RegExp(`^${name}=(.*)$`, 'm'))![1]!;
  const time = (text: string): string => new Date(text).toISOString().replace('.000Z', 'Z');
  return { serial_number: field('serial').toLowerCase(), valid_from: time(field('notBefore')), expiration_time: time(field('notAfter')) };
}

/** openssl s_client sends one request; resolves with everything it printed. */
export function sClient(port: number, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', '-quiet', ...args], { timeout: 10_000 }, (_err, stdout, stderr) => resolve(stdout + stderr));
    child.stdin!.end('GET /hello HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
  });
}

/** Keep-alive GETs through `port` until `stop()` (with `host` as the Host header, e.g. a mesh service); counts successes and failures. */
export function steadyLoad(port: number, concurrency = 4, host?: string): { stop(): Promise<{ ok: number; failed: string[] }> } {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  const one = (): Promise<void> => new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/load', agent, ...(host === undefined ? {} : { headers: { host } }) }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 200) ok++;
        else failed.push(`status ${res.statusCode}`);
        resolve();
      });
    });
    req.on('error', (err) => {
      failed.push(err.message);
      resolve();
    });
    req.end();
  });
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) await one();
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failed };
    },
  };
}

