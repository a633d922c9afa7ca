import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import { Etcd3 } from 'etcd3';
import { campaignForLeadership } from '../../../src/controlplane/store/leader.js';
import { startEtcdCluster, type EtcdCluster } from './etcd-cluster.js';

const LEADER_MODULE = fileURLToPath(new URL('../../../src/controlplane/store/leader.js', import.meta.url));
const TTL_SECONDS = 2;

let cluster: EtcdCluster;
let elections = 0;
before(async () => {
  cluster = await startEtcdCluster(3);
});
after(async () => {
  await cluster.stop();
});

interface Candidate {
  id: string;
  leading: boolean;
  resign(): Promise<void>;
}

/** Candidates of one election, with a record of every moment two of them led at once. */
function election() {
  const prefix = `/weft-leader-${process.pid}-${++elections}/`;
  const candidates: Candidate[] = [];
  const overlaps: Array<{ elected: string; stillLeading: string[]; at: number }> = [];
  const stepDowns = new Map<string, number>();
  return {
    prefix,
    overlaps,
    stepDowns,
    candidates,
    join(id: string): Candidate {
      const candidate: Candidate = { id, leading: false, resign: async () => undefined };
      const handle = campaignForLeadership({ endpoints: cluster.endpoints, prefix, id, ttlSeconds: TTL_SECONDS }, (isLeader) => {
        candidate.leading = isLeader;
        if (!isLeader) stepDowns.set(id, Date.now());
        const stillLeading = candidates.filter((c) => c !== candidate && c.leading).map((c) => c.id);
        if (isLeader && stillLeading.length > 0) overlaps.push({ elected: id, stillLeading, at: Date.now() });
      });
      candidate.resign = () => handle.resign();
      candidates.push(candidate);
      return candidate;
    },
    leaders: () => candidates.filter((c) => c.leading),
  };
}

async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    assert.ok(Date.now() < deadline, `timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function holdsFor(condition: () => boolean, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    assert.ok(condition(), what);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('leader election', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((c) => c()));
  });

  it('elects exactly one of two candidates and fails over when the leader resigns', async () => {
    const e = election();
    const a = e.join('replica-a');
    const b = e.join('replica-b');
    cleanups.push(() => a.resign(), () => b.resign());
    await eventually(() => e.leaders().length === 1, 'one leader');
    await holdsFor(() => e.leaders().length === 1, 'exactly one leader while nothing changes', 1000);
    const [first] = e.leaders();
    const other = first === a ? b : a;
    await first!.resign();
    assert.equal(first!.leading, false);
    await eventually(() => other.leading, 'the other replica to take over');
    assert.deepEqual(e.overlaps, [], 'the resigning leader stepped down before the other was elected');
    await holdsFor(() => e.leaders().length === 1, 'still exactly one leader', 500);
  });

  it('fails over when the leader\'s lease is revoked, and the old leader steps down and follows', async () => {
    const e = election();
    const a = e.join('replica-a');
    const b = e.join('replica-b');
    cleanups.push(() => a.resign(), () => b.resign());
    await eventually(() => e.leaders().length === 1, 'one leader');
    const [first] = e.leaders();
    const other = first === a ? b : a;

    const admin = new Etcd3({ hosts: cluster.endpoints });
    cleanups.push(async () => admin.close());
    const key = (await admin.get(`${e.prefix}leader`).exec()).kvs[0];
    assert.equal(key?.value.toString(), first!.id, 'the leader key names the leader');
    await admin.leaseClient.leaseRevoke({ ID: key.lease });

    await eventually(() => other.leading && !first!.leading, 'failover to the other replica');
    for (const overlap of e.overlaps) {
      const steppedDown = e.stepDowns.get(first!.id) ?? Infinity;
      assert.ok(steppedDown - overlap.at < 1000, `the revoked leader stepped down within a second (${JSON.stringify(overlap)})`);
    }
    await holdsFor(() => other.leading && !first!.leading, 'the old leader rejoins as a follower, the new one keeps leading', 1500);
  });

  it('takes over from a leader process that crashed, once its lease expires', { timeout: 30_000 }, async () => {
    const e = election();
    const script = `
      import { campaignForLeadership } from ${JSON.stringify(LEADER_MODULE)};
      campaignForLeadership({ endpoints: ${JSON.stringify(cluster.endpoints)}, prefix: ${JSON.stringify(e.prefix)}, id: 'crashing', ttlSeconds: ${TTL_SECONDS} },
        (leading) => process.stdout.write(leading ? 'leading\\n' : 'following\\n'));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, WEFT_LOG_LEVEL: 'silent' } });
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    });
    let childOutput = '';
    child.stdout.on('data', (chunk: Buffer) => (childOutput += chunk.toString()));
    await eventually(() => childOutput.includes('leading'), 'the child process to lead');

    const survivor = e.join('survivor');
    cleanups.push(() => survivor.resign());
    await holdsFor(() => !survivor.leading, 'no takeover while the child process holds its lease', 1000);
    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = Date.now();
    await eventually(() => survivor.leading, 'the survivor to take over after the lease expires', (TTL_SECONDS + 3) * 1000);
    assert.ok(Date.now() - killedAt >= 500, 'takeover waited for the crashed leader\'s lease to expire');
  });
});
