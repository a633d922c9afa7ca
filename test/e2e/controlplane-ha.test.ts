/**
 * Two `weft controlplane --store etcd` replicas on a real 3-member etcd
 * cluster: what is applied through replica A reaches a grpc-js-xds client
 * connected to replica B; killing the etcd Raft leader breaks neither
 * replica (a split applied through A after the kill still reaches B's
 * client); and exactly one replica reports leadership on `/healthz`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEtcdCluster, type EtcdCluster } from '../controlplane/store/etcd-cluster.js';
import { countBackends, newEchoClient, registerXdsClient, share, waitForShare, startGrpcEchoServer, type EchoClient, type GrpcEchoServer } from '../support/grpc-echo.js';
import { echoMeshYaml, echoSplitYaml, newEtcdConfig, startControlPlane, type ControlPlaneProcess } from './controlplane-harness.js';
import { waitFor } from './harness.js';

const NODE_ID = 'e2e-ha-client';

async function health(cp: ControlPlaneProcess): Promise<{ status: string; leader: boolean }> {
  const response = await cp.api('/healthz');
  assert.equal(response.status, 200, `${cp.url}/healthz`);
  return (await response.json()) as { status: string; leader: boolean };
}

/** Waits until exactly one replica reports leadership; returns its index. */
async function soleLeader(replicas: readonly ControlPlaneProcess[]): Promise<number> {
  let leaders: boolean[] = [];
  await waitFor(async () => {
    leaders = await Promise.all(replicas.map(async (cp) => (await health(cp)).leader));
    return leaders.filter(Boolean).length === 1;
  }, 'exactly one leader', 15_000).catch((err: Error) => {
    throw new Error(`${err.message}; replicas report leader=${JSON.stringify(leaders)}`);
  });
  return leaders.indexOf(true);
}

describe('two weft controlplane replicas on a 3-member etcd cluster', () => {
  let etcd: EtcdCluster;
  let replicas: [ControlPlaneProcess, ControlPlaneProcess];
  const echoServers: GrpcEchoServer[] = [];
  let client: EchoClient | undefined;

  before(async () => {
    etcd = await startEtcdCluster(3);
    echoServers.push(await startGrpcEchoServer('v1'), await startGrpcEchoServer('v2'));
    const [configA, configB] = await Promise.all([newEtcdConfig(etcd.endpoints), newEtcdConfig(etcd.endpoints)]);
    const started = await Promise.allSettled([startControlPlane(configA), startControlPlane(configB)]);
    const running = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    if (running.length !== 2) {
      await Promise.all(running.map((cp) => cp.stop()));
      throw (started.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
    }
    replicas = running as [ControlPlaneProcess, ControlPlaneProcess];
  });

  after(async () => {
    client?.close();
    await Promise.all((replicas ?? []).map((cp) => cp.stop()));
    await Promise.all(echoServers.map((server) => server.close()));
    await etcd?.stop();
  });

  it('exactly one replica reports leadership', async () => {
    const leader = await soleLeader(replicas);
    assert.match(replicas[leader]!.output(), /"leader":true,"msg":"leadership changed"/, 'the leader logged its election');
    // Stable, not a moment between two elections.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await soleLeader(replicas), leader);
  });

  it('a split applied through replica A reaches a grpc-js-xds client connected to replica B', async () => {
    const [a, b] = replicas;
    const [v1, v2] = echoServers as [GrpcEchoServer, GrpcEchoServer];
    const applied = await a.weft(['apply', '-f', '-'], `${echoMeshYaml({ v1: v1.port, v2: v2.port })}---\n${echoSplitYaml({ v1: 90, v2: 10 })}`);
    assert.equal(applied.code, 0, applied.stderr);

    registerXdsClient(b.xdsPort, { id: NODE_ID });
    client = newEchoClient('xds:///echo');
    // B learns of A's writes through its etcd watch: allow it a moment before judging the split.
    await waitForShare(client, 'v1', 0.9, { timeoutMs: 10_000, tolerance: 0.07 });
    const counts = await countBackends(client, 2000);
    const v1Share = share(counts, 'v1');
    assert.ok(Math.abs(v1Share - 0.9) <= 0.05, `v1 answered ${(v1Share * 100).toFixed(1)}% of calls, wanted 90% ± 5`);

    const { items } = (await (await b.api('/api/proxies')).json()) as { items: Array<{ nodeId: string }> };
    assert.ok(items.some((p) => p.nodeId === NODE_ID), 'the client is connected to B');
    const { items: onA } = (await (await a.api('/api/proxies')).json()) as { items: Array<{ nodeId: string }> };
    assert.ok(!onA.some((p) => p.nodeId === NODE_ID), 'and not to A');
  });

  it('killing the etcd leader breaks neither replica: a change through A still reaches the client on B', async () => {
    assert.ok(client, 'the previous test connected the client');
    const [a, b] = replicas;
    await etcd.kill(await etcd.leaderIndex());

    const applied = await a.weft(['apply', '-f', '-'], echoSplitYaml({ v1: 50, v2: 50 }));
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout.trim(), 'trafficsplit/echo-rollout configured');
    const readFromB = JSON.parse((await b.weft(['get', 'ts', 'echo-rollout', '-o', 'json'])).stdout) as { spec: { backends: Array<{ weight: number }> } };
    assert.deepEqual(readFromB.spec.backends.map((backend) => backend.weight), [50, 50]);

    await waitForShare(client, 'v1', 0.5, { timeoutMs: 10_000 });
    const counts = await countBackends(client, 2000);
    const v1Share = share(counts, 'v1');
    assert.ok(Math.abs(v1Share - 0.5) <= 0.05, `v1 answered ${(v1Share * 100).toFixed(1)}% of calls, wanted 50% ± 5`);

    for (const cp of replicas) {
      assert.equal(cp.child.exitCode, null, `${cp.url} still runs`);
      assert.equal((await health(cp)).status, 'ok');
    }
    await soleLeader(replicas);
  });
});
