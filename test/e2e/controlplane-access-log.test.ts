/**
 * Access logging switched on and off through the control plane, with real
 * processes: `weft controlplane`, a client sidecar (web-1, outbound) and a
 * server sidecar (api-1, inbound) in front of an HTTP app, curl as the client.
 * The Mesh's default (stdout) reaches the client sidecar; api's TrafficPolicy
 * overrides it with a file on the server sidecar. Each request through both
 * gives one JSON line in each place, with Envoy's command-operator names as
 * keys; once the settings are removed, lines stop.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accessLog, curl, freePorts, startUpstream, waitFor, type Upstream } from './harness.js';
import { newSqliteConfig, startControlPlane, startSidecar, type ControlPlaneProcess, type Sidecar } from './controlplane-harness.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const doc = (kind: string, name: string, spec: object) => ({ apiVersion: 'mesh.weft.dev/v1alpha1', kind, metadata: { name }, spec });
const yaml = (...docs: object[]): string => docs.map((d) => JSON.stringify(d)).join('\n---\n');

describe('access logging through the control plane', () => {
  let cp: ControlPlaneProcess;
  let app: Upstream;
  let dir: string;
  let logFile: string;
  let client: Sidecar;
  let server: Sidecar;
  let webOut: number;
  const mesh = (spec: object = {}) => doc('Mesh', 'default', { mtls: { mode: 'DISABLED' }, ...spec });
  const fileLines = (): Array<Record<string, unknown>> =>
    existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  const call = async (path: string): Promise<void> => {
    const res = await curl(['-sS', '-f', '-H', 'Host: api:9080', `http://127.0.0.1:${webOut}${path}`]);
    assert.equal(res.code, 0, res.stderr);
  };
  /** Until both sidecars run a config that does (or does not) log access. */
  const configLogs = async (logs: boolean): Promise<void> => {
    await waitFor(async () => {
      const dumps = await Promise.all([client, server].map(async (s) => JSON.stringify(await (await s.admin('/config_dump')).json())));
      return dumps.every((d) => d.includes('envoy.access_loggers') === logs);
    }, `both sidecars to ${logs ? 'take' : 'drop'} the access log`, 30_000);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weft-access-log-e2e-'));
    logFile = join(dir, 'api-access.log');
    app = await startUpstream(undefined, 'api-app');
    const [webAdmin, out, webIn, apiAdmin, apiOut, apiIn] = (await freePorts(6)) as [number, number, number, number, number, number];
    webOut = out;
    cp = await startControlPlane(await newSqliteConfig());
    const applied = await cp.weft(['apply', '-f', '-'], yaml(
      mesh(),
      doc('Service', 'api', { ports: [{ name: 'http', port: 9080, protocol: 'http' }] }),
      doc('Workload', 'api-1', { address: '127.0.0.1', service: 'api', inboundPort: apiIn, ports: [{ name: 'http', port: app.port }] }),
      doc('Service', 'web', { ports: [{ name: 'http', port: 8080, protocol: 'http' }] }),
      doc('Workload', 'web-1', { address: '127.0.0.1', service: 'web' }),
    ));
    assert.equal(applied.code, 0, applied.stderr);
    client = startSidecar(cp, { workload: 'web-1' }, { admin: webAdmin, outbound: webOut, inbound: webIn });
    server = startSidecar(cp, { workload: 'api-1' }, { admin: apiAdmin, outbound: apiOut, inbound: apiIn });
    let last = '';
    await waitFor(async () => {
      const res = await curl(['-sS', '-H', 'Host: api:9080', `http://127.0.0.1:${webOut}/ready`]);
      last = `${res.code} ${res.stdout} ${res.stderr}`;
      return res.code === 0 && res.stdout.includes('/ready');
    }, 'a response through both sidecars', 90_000).catch((err: Error) => assert.fail(`${err.message}; last curl: ${last}\n${client.output().slice(-2000)}`));
  });

  after(async () => {
    await client?.stop();
    await server?.stop();
    await cp?.stop();
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs nothing before it is configured', async () => {
    await call('/before');
    await sleep(300);
    assert.deepEqual(accessLog(client), []);
    assert.deepEqual(accessLog(server), []);
    assert.equal(existsSync(logFile), false);
  });

  it("a Mesh default and a destination's override produce one JSON line per request on each sidecar", async () => {
    const applied = await cp.weft(['apply', '-f', '-'], yaml(
      mesh({ accessLog: { backends: [{ stdout: {} }] } }),
      doc('TrafficPolicy', 'api', { targetRef: { kind: 'Service', name: 'api' }, accessLog: { backends: [{ file: { path: logFile } }] } }),
    ));
    assert.equal(applied.code, 0, applied.stderr);
    await configLogs(true);
    for (let i = 0; i < 3; i++) await call(`/logged/${i}`);
    const clientLines = await waitFor(() => sleep(100).then(() => (accessLog(client).length >= 3 ? accessLog(client) : undefined)), 'three lines from the client sidecar');
    const serverLines = await waitFor(() => sleep(100).then(() => (fileLines().length >= 3 ? fileLines() : undefined)), 'three lines in the file');
    assert.deepEqual(clientLines.map((l) => l['path']), ['/logged/0', '/logged/1', '/logged/2']);
    assert.deepEqual(serverLines.map((l) => l['path']), ['/logged/0', '/logged/1', '/logged/2']);
    const [outbound, inbound] = [clientLines[0]!, serverLines[0]!];
    assert.equal(outbound['method'], 'GET');
    assert.equal(outbound['response_code'], 200);
    assert.equal(outbound['authority'], 'api:9080');
    assert.equal(outbound['upstream_cluster'], 'outbound|9080||api.default.svc');
    assert.equal(inbound['upstream_cluster'], `inbound|${app.port}||`);
    assert.equal(inbound['request_id'], outbound['request_id'], 'the same request on both hops');
    assert.equal(typeof inbound['duration'], 'number');
    // The override replaced the Mesh default on the server sidecar: nothing on its stdout.
    assert.deepEqual(accessLog(server), []);
  });

  it('removing the settings stops the lines', async () => {
    const deleted = await cp.weft(['delete', 'TrafficPolicy', 'api']);
    assert.equal(deleted.code, 0, deleted.stderr);
    const applied = await cp.weft(['apply', '-f', '-'], yaml(mesh()));
    assert.equal(applied.code, 0, applied.stderr);
    await configLogs(false);
    await sleep(300);
    const [clientBefore, fileBefore] = [accessLog(client).length, fileLines().length];
    for (let i = 0; i < 3; i++) await call(`/unlogged/${i}`);
    await sleep(500);
    assert.equal(accessLog(client).length, clientBefore);
    assert.equal(fileLines().length, fileBefore);
    assert.equal(app.seen.filter((r) => r.url.startsWith('/unlogged/')).length, 3, 'the requests did reach the app');
  });
});
