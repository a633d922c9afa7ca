/**
 * A real etcd cluster for tests: `size` members of /usr/bin/etcd on loopback,
 * random free ports, temporary data directories, short heartbeat and election
 * timeouts so a killed leader is replaced within a second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../../../src/lib/free-ports.js';

export const ETCD_BIN = '/usr/bin/etcd';
const HEALTHY_WITHIN_MS = 20_000;

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  process: ChildProcess;
  /** Last lines etcd wrote, shown when startup fails. */
  output: string[];
}

export interface EtcdCluster {
  /** Client URLs of every member, in member order. */
  endpoints: string[];
  members: EtcdMember[];
  /** SIGKILLs member `index` and waits until it has exited. */
  kill(index: number): Promise<void>;
  /** The index of the member that currently leads the Raft group. */
  leaderIndex(): Promise<number>;
  stop(): Promise<void>;
}

export async function startEtcdCluster(size: number): Promise<EtcdCluster> {
  const dataRoot = mkdtempSync(join(tmpdir(), 'weft-etcd-'));
  const ports = await freePorts(size * 2);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    peerUrl: `http://127.0.0.1:${ports[2 * i]}`,
    clientUrl: `http://127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  const members: EtcdMember[] = specs.map((spec) => {
    const child = spawn(
      ETCD_BIN,
      [
        '--name', spec.name,
        '--data-dir', join(dataRoot, spec.name),
        '--listen-peer-urls', spec.peerUrl,
        '--initial-advertise-peer-urls', spec.peerUrl,
        '--listen-client-urls', spec.clientUrl,
        '--advertise-client-urls', spec.clientUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', `weft-test-${process.pid}-${ports[0]}`,
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
        '--logger', 'zap',
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const output: string[] = [];
    const remember = (chunk: Buffer): void => {
      output.push(...chunk.toString().split('\n').filter(Boolean));
      output.splice(0, Math.max(0, output.length - 50));
    };
    child.stdout?.on('data', remember);
    child.stderr?.on('data', remember);
    return { ...spec, process: child, output };
  });

  const kill = async (index: number): Promise<void> => {
    const member = members[index];
    if (member === undefined) throw new RangeError(`no etcd member ${index}`);
    const child = member.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const cluster: EtcdCluster = {
    endpoints: members.map((m) => m.clientUrl),
    members,
    kill,
    leaderIndex: async () => {
      for (const [index, member] of members.entries()) {
        if (member.process.exitCode !== null || member.process.signalCode !== null) continue;
        const status = await memberStatus(member.clientUrl).catch(() => undefined);
        if (status !== undefined && status.leader === status.header.member_id) return index;
      }
      throw new Error('no etcd member reports itself as leader');
    },
    stop: async () => {
      await Promise.all(members.map((_, i) => kill(i)));
      rmSync(dataRoot, { recursive: true, force: true });
    },
  };
  try {
    await waitUntilHealthy(members);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

interface MemberStatus {
  header: { member_id: string };
  leader: string;
}

/** etcd's gRPC gateway: POST /v3/maintenance/status. */
async function memberStatus(clientUrl: string): Promise<MemberStatus> {
  const response = await fetch(`${clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(1000) });
  if (!response.ok) throw new Error(`${clientUrl}: status ${response.status}`);
  return (await response.json()) as MemberStatus;
}

async function waitUntilHealthy(members: EtcdMember[]): Promise<void> {
  const deadline = Date.now() + HEALTHY_WITHIN_MS;
  for (const member of members) {
    for (;;) {
      if (member.process.exitCode !== null) throw new Error(`etcd ${member.name} exited with ${member.process.exitCode}:\n${member.output.join('\n')}`);
      const healthy = await fetch(`${member.clientUrl}/health`, { signal: AbortSignal.timeout(1000) })
        .then(async (r) => r.ok && ((await r.json()) as { health?: string }).health === 'true')
        .catch(() => false);
      if (healthy) break;
      if (Date.now() > deadline) throw new Error(`etcd ${member.name} not healthy within ${HEALTHY_WITHIN_MS} ms:\n${member.output.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

