/**
 * Restarting the control plane: SIGTERM stops `weft controlplane` promptly
 * with exit 0 while a grpc-js-xds client is under load, the client keeps
 * calling on its last config (no call fails), and a new process on the same
 * data dir and ports still has every resource and pushes the next split
 * change to the same client.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { countBackends, newEchoClient, registerXdsClient, share, startGrpcEchoServer, waitForShare, type EchoClient, type GrpcEchoServer } from '../support/grpc-echo.js';
import { echoMeshYaml, echoSplitYaml, newSqliteConfig, startControlPlane, type ControlPlaneConfig, type ControlPlaneProcess } from './controlplane-harness.js';

const NODE_ID = 'e2e-restart-client';
/** SIGTERM to exit: the stores close and the servers stop at once; a little slack for a loaded machine. */
const PROMPT_EXIT_MS = 3000;

describe('weft controlplane restart', () => {
  let config: ControlPlaneConfig;
  let cp: ControlPlaneProcess | undefined;
  const echoServers: GrpcEchoServer[] = [];
  let client: EchoClient;

  before(async () => {
    echoServers.push(await startGrpcEchoServer('v1'), await startGrpcEchoServer('v2'));
    config = await newSqliteConfig();
    cp = await startControlPlane(config);
    const [v1, v2] = echoServers as [GrpcEchoServer, GrpcEchoServer];
    const applied = await cp.weft(['apply', '-f', '-'], `${echoMeshYaml({ v1: v1.port, v2: v2.port })}---\n${echoSplitYaml({ v1: 90, v2: 10 })}`);
    assert.equal(applied.code, 0, applied.stderr);
    registerXdsClient(cp.xdsPort, { id: NODE_ID });
    client = newEchoClient('xds:///echo');
    const warm = await countBackends(client, 500);
    assert.ok(Math.abs(share(warm, 'v1') - 0.9) <= 0.07, `the client has the 90/10 split: ${JSON.stringify([...warm])}`);
  });

  after(async () => {
    client?.close();
    await cp?.stop();
    await Promise.all(echoServers.map((server) => server.close()));
    rmSync((config.store as { dataDir: string }).dataDir, { recursive: true, force: true });
  });

  it('SIGTERM under load: exit 0 promptly, and no call fails', async () => {
    const load = countBackends(client, 3000, 20);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopped = await cp!.stop('SIGTERM');
    assert.equal(stopped.code, 0, cp!.output());
    assert.ok(stopped.ms < PROMPT_EXIT_MS, `exited ${stopped.ms} ms after SIGTERM`);
    assert.match(cp!.output(), /"msg":"control plane stopped"/);
    const counts = await load;
    assert.equal((counts.get('v1') ?? 0) + (counts.get('v2') ?? 0), 3000, 'every call succeeded');
  });

  it('with the control plane gone, the client keeps calling on its last config', async () => {
    // Long enough for the client to see its ADS stream fail and retry at least once.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const counts = await countBackends(client, 1000);
    const v1Share = share(counts, 'v1');
    assert.ok(Math.abs(v1Share - 0.9) <= 0.05, `still 90/10: v1 answered ${(v1Share * 100).toFixed(1)}%`);
  });

  it('restarted on the same data dir and ports, it still has the resources and pushes a new split to the same client', async () => {
    cp = await startControlPlane(config);
    const services = await cp.weft(['get', 'services']);
    assert.equal(services.code, 0, services.stderr);
    for (const name of ['echo', 'echo-v1', 'echo-v2']) assert.match(services.stdout, new RegExp(`^${name}\\s+default\\s+Accepted\\s`, 'm'));
    const split = JSON.parse((await cp.weft(['get', 'ts', 'echo-rollout', '-o', 'json'])).stdout) as { spec: { backends: Array<{ service: string; weight: number }> } };
    assert.deepEqual(split.spec.backends, [{ service: 'echo-v1', weight: 90 }, { service: 'echo-v2', weight: 10 }]);

    const applied = await cp.weft(['apply', '-f', '-'], echoSplitYaml({ v1: 50, v2: 50 }));
    assert.equal(applied.code, 0, applied.stderr);
    // The client reconnects with its own back-off (about 1 s, then 1.6x) before it can hear of the change.
    await waitForShare(client, 'v1', 0.5, { timeoutMs: 15_000 });
    const counts = await countBackends(client, 2000);
    const v1Share = share(counts, 'v1');
    assert.ok(Math.abs(v1Share - 0.5) <= 0.05, `v1 answered ${(v1Share * 100).toFixed(1)}% of calls, wanted 50% ± 5`);
  });
});
