/**
 * The whole control plane as real processes: `weft controlplane` (SQLite in a
 * temp dir), `weft apply` registering two real gRPC echo servers and a 90/10
 * TrafficSplit, and @grpc/grpc-js-xds dialing `xds:///echo` through the
 * control plane's ADS port. The split is honoured within ±5% over 2000 calls;
 * a re-applied 50/50 split reaches the same client within seconds; `weft
 * proxies` and `GET /api/proxies` show the client with all four types ACKed.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { CLUSTER_LOAD_ASSIGNMENT_TYPE_URL, CLUSTER_TYPE_URL, LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, type TypeUrl } from '../../src/xds/type-urls.js';
import type { ProxyStatus, TypeStatus } from '../../src/controlplane/xds/proxy-status.js';
import { countBackends, newEchoClient, registerXdsClient, share, startGrpcEchoServer, waitForShare, type EchoClient, type GrpcEchoServer } from '../support/grpc-echo.js';
import { echoMeshYaml, echoSplitYaml, newSqliteConfig, startControlPlane, type ControlPlaneProcess } from './controlplane-harness.js';

const NODE_ID = 'e2e-echo-client';
const CALLS = 2000;
const ALL_TYPES: readonly TypeUrl[] = [LISTENER_TYPE_URL, ROUTE_CONFIGURATION_TYPE_URL, CLUSTER_TYPE_URL, CLUSTER_LOAD_ASSIGNMENT_TYPE_URL];

describe('weft controlplane with weft apply and a grpc-js-xds client', () => {
  let cp: ControlPlaneProcess;
  let dataDir: string;
  const echoServers: GrpcEchoServer[] = [];
  let client: EchoClient | undefined;

  before(async () => {
    echoServers.push(await startGrpcEchoServer('v1'), await startGrpcEchoServer('v2'));
    const config = await newSqliteConfig();
    dataDir = (config.store as { dataDir: string }).dataDir;
    cp = await startControlPlane(config);
    registerXdsClient(cp.xdsPort, { id: NODE_ID });
  });

  after(async () => {
    client?.close();
    await cp?.stop();
    await Promise.all(echoServers.map((server) => server.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('weft apply registers the services, workloads and a 90/10 split', async () => {
    const [v1, v2] = echoServers as [GrpcEchoServer, GrpcEchoServer];
    const result = await cp.weft(['apply', '-f', '-'], `${echoMeshYaml({ v1: v1.port, v2: v2.port })}---\n${echoSplitYaml({ v1: 90, v2: 10 })}`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'service/echo created',
      'service/echo-v1 created',
      'service/echo-v2 created',
      'workload/echo-v1-0 created',
      'workload/echo-v2-0 created',
      'trafficsplit/echo-rollout created',
    ]);
    const split = await cp.weft(['get', 'ts']);
    assert.match(split.stdout, /^echo-rollout\s+default\s+Accepted\s/m);
  });

  it('a client dialing xds:///echo gets the 90/10 split within ±5% over 2000 calls', async () => {
    client = newEchoClient('xds:///echo');
    const counts = await countBackends(client, CALLS);
    const v1Share = share(counts, 'v1');
    assert.ok(Math.abs(v1Share - 0.9) <= 0.05, `v1 answered ${(v1Share * 100).toFixed(1)}% of calls, wanted 90% ± 5`);
  });

  it('re-applying the file with a 50/50 split changes only the split, and it reaches the same client within a few seconds', async () => {
    assert.ok(client, 'the previous test created the client');
    const [v1, v2] = echoServers as [GrpcEchoServer, GrpcEchoServer];
    const result = await cp.weft(['apply', '-f', '-'], `${echoMeshYaml({ v1: v1.port, v2: v2.port })}---\n${echoSplitYaml({ v1: 50, v2: 50 })}`);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'service/echo unchanged',
      'service/echo-v1 unchanged',
      'service/echo-v2 unchanged',
      'workload/echo-v1-0 unchanged',
      'workload/echo-v2-0 unchanged',
      'trafficsplit/echo-rollout configured',
    ]);
    const tookMs = await waitForShare(client, 'v1', 0.5, { timeoutMs: 5000 });
    assert.ok(tookMs < 5000, `the new split took ${tookMs} ms`);
    const counts = await countBackends(client, CALLS);
    const v1Share = share(counts, 'v1');
    assert.ok(Math.abs(v1Share - 0.5) <= 0.05, `v1 answered ${(v1Share * 100).toFixed(1)}% of calls, wanted 50% ± 5`);
  });

  it('GET /api/proxies and weft proxies list the client with every type ACKed at the version sent', async () => {
    const body = (await (await cp.api('/api/proxies')).json()) as { items: ProxyStatus[] };
    const proxy = body.items.find((p) => p.nodeId === NODE_ID);
    assert.ok(proxy, `the client is listed: ${JSON.stringify(body.items)}`);
    assert.equal(proxy.protocol, 'sotw', 'grpc-js-xds speaks state-of-the-world ADS');
    assert.deepEqual(Object.keys(proxy.types).sort(), [...ALL_TYPES].sort());
    for (const typeUrl of ALL_TYPES) {
      const status: TypeStatus = proxy.types[typeUrl]!;
      assert.notEqual(status.ackedVersion, '', `${typeUrl} was ACKed`);
      assert.equal(status.ackedVersion, status.sentVersion, `${typeUrl}: the last version sent is the one ACKed`);
      assert.equal(status.nackError, undefined, `${typeUrl} has no NACK`);
    }

    const table = await cp.weft(['proxies']);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    const columns = header!.trim().split(/\s+/);
    for (const column of ['NODE', 'LDS', 'RDS', 'CDS', 'EDS']) assert.ok(columns.includes(column), `column ${column} in ${header}`);
    const row = rows.find((line) => line.startsWith(`${NODE_ID} `));
    assert.ok(row, `a row for the client in:\n${table.stdout}`);
    const cells = row.trim().split(/\s+/);
    for (const [i, typeUrl] of ALL_TYPES.entries()) {
      assert.equal(cells[columns.indexOf(['LDS', 'RDS', 'CDS', 'EDS'][i]!)], proxy.types[typeUrl]!.ackedVersion, `${typeUrl} in ${row}`);
    }

    const json = await cp.weft(['proxies', '-o', 'json']);
    assert.deepEqual((JSON.parse(json.stdout) as ProxyStatus[]).map((p) => p.nodeId), body.items.map((p) => p.nodeId));
  });
});
