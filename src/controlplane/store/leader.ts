/**
 * Leader election between control-plane replicas sharing one etcd: the
 * leader is whoever holds `${prefix}leader`, a key bound to its lease, so
 * the key disappears when the leader resigns, crashes (lease expiry) or has
 * its lease revoked. Candidates create the key with a create_revision = 0
 * transaction and otherwise watch it for deletion.
 *
 * A leader steps down by itself as soon as it can no longer prove its lease
 * is alive (no keepalive confirmed within two thirds of the TTL), before etcd
 * can expire the lease and elect someone else. On resign it reports
 * `false` before it releases the key, so two replicas never both act then.
 */
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { childLogger } from '../../lib/log.js';
import { DEFAULT_ETCD_PREFIX, etcdClient } from './etcd-store.js';

export const DEFAULT_LEADER_TTL_SECONDS = 10;
/**
 * Pause before campaigning again after etcd was unreachable, and after losing
 * a term we led (key deleted, lease revoked or in doubt): the followers, who
 * watch the key, get the first chance, so a revoked lease really moves
 * leadership instead of racing the old leader's immediate re-campaign.
 */
const RETRY_DELAY_MS = 500;

export interface LeaderElectionOptions {
  endpoints: string[];
  prefix?: string;
  /** Who is campaigning (stored as the leader key's value), e.g. hostname and pid. */
  id: string;
  ttlSeconds?: number;
}

export function campaignForLeadership(options: LeaderElectionOptions, onChange: (isLeader: boolean) => void): { resign(): Promise<void> } {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_LEADER_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError(`leader election ttlSeconds must be an integer >= 1, got ${ttlSeconds}`);
  const campaign = new Campaign(etcdClient(options.endpoints), `${options.prefix ?? DEFAULT_ETCD_PREFIX}leader`, options.id, ttlSeconds, onChange);
  return { resign: () => campaign.resign() };
}

type TermEnd = 'key-deleted' | 'lease-lost' | 'resigned';

class Campaign {
  private leading = false;
  private resigning = false;
  private readonly resigned: Promise<TermEnd>;
  private signalResigned!: () => void;
  private readonly running: Promise<void>;
  private readonly log: Logger;

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
    private readonly id: string,
    private readonly ttlSeconds: number,
    private readonly onChange: (isLeader: boolean) => void,
  ) {
    this.log = childLogger('leader').child({ id, key });
    this.resigned = new Promise<TermEnd>((resolve) => (this.signalResigned = () => resolve('resigned')));
    this.running = this.run();
  }

  async resign(): Promise<void> {
    if (!this.resigning) {
      this.resigning = true;
      // Report first: by the time the key is released nobody here acts as leader.
      this.setLeading(false);
      this.signalResigned();
    }
    await this.running;
    this.client.close();
  }

  private async run(): Promise<void> {
    while (!this.resigning) {
      try {
        const led = await this.term();
        if (led && !this.resigning) await Promise.race([this.resigned, delay(RETRY_DELAY_MS)]);
      } catch (err) {
        if (this.resigning) break;
        this.log.warn({ err }, 'leader election: etcd unavailable; campaigning again shortly');
        await Promise.race([this.resigned, delay(RETRY_DELAY_MS)]);
      }
    }
  }

  /** One lease: campaign, then lead or follow until the key or the lease goes away. Returns whether it led. */
  private async term(): Promise<boolean> {
    const lease = this.client.lease(this.ttlSeconds);
    const leaseLost = this.watchLease(lease);
    let led = false;
    try {
      const leaseId = await lease.grant();
      while (!this.resigning) {
        const result = await this.client
          .if(this.key, 'Create', '==', 0)
          .then(this.client.put(this.key).value(this.id).lease(leaseId))
          .else(this.client.get(this.key))
          .commit();
        const holder = result.succeeded ? undefined : result.responses[0]?.response_range.kvs[0];
        if (!result.succeeded && holder === undefined) continue; // deleted between compare and read
        this.setLeading(result.succeeded);
        led ||= result.succeeded;
        this.log.info({ leader: holder === undefined ? this.id : holder.value.toString() }, 'leader election: leader known');
        const keyDeleted = this.waitForDeletion(BigInt(result.header.revision) + 1n);
        const end = await Promise.race([keyDeleted.deleted, leaseLost.promise, this.resigned]).finally(() => keyDeleted.cancel());
        // Our key vanished (lease revoked or expired) or the lease is in doubt: this lease is done.
        if (end === 'lease-lost' || (end === 'key-deleted' && this.leading)) return led;
      }
      return led;
    } finally {
      this.setLeading(false);
      leaseLost.stop();
      // Revoking deletes our key if we still hold it, so a follower takes over at once.
      await lease.revoke().catch((err: unknown) => this.log.debug({ err }, 'leader election: lease revoke failed (already gone)'));
    }
  }

  /**
   * Resolves when the lease is lost or can no longer be proven alive:
   * etcd keeps the lease for the TTL after the last renewal it granted, which
   * happened after we sent that keepalive, so we stop trusting it two thirds
   * of a TTL after sending the last confirmed one.
   */
  private watchLease(lease: Lease): { promise: Promise<TermEnd>; stop(): void } {
    const ttlMs = this.ttlSeconds * 1000;
    let lastSent = Date.now();
    let confirmedSentAt = lastSent;
    let check: NodeJS.Timeout | undefined;
    const promise = new Promise<TermEnd>((resolve) => {
      lease.on('lost', (err) => {
        this.log.warn({ err }, 'leader election: lease lost');
        resolve('lease-lost');
      });
      lease.on('keepaliveFired', () => (lastSent = Date.now()));
      lease.on('keepaliveSucceeded', () => (confirmedSentAt = lastSent));
      check = setInterval(() => {
        if (Date.now() - confirmedSentAt > (ttlMs * 2) / 3) {
          this.log.warn({ sinceConfirmedMs: Date.now() - confirmedSentAt }, 'leader election: lease keepalives unconfirmed; stepping down');
          resolve('lease-lost');
        }
      }, Math.max(50, ttlMs / 12));
    });
    return { promise, stop: () => clearInterval(check) };
  }

  private waitForDeletion(fromRevision: bigint): { deleted: Promise<TermEnd>; cancel(): void } {
    const watcher = this.client.watch().key(this.key).only('delete').startRevision(fromRevision.toString()).watcher();
    const deleted = new Promise<TermEnd>((resolve, reject) => {
      watcher.on('delete', () => resolve('key-deleted'));
      watcher.on('error', reject);
    });
    return {
      deleted,
      cancel: () => void watcher.cancel().catch((err: unknown) => this.log.debug({ err }, 'leader election: watch cancel failed')),
    };
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading || (leading && this.resigning)) return;
    this.leading = leading;
    this.log.info({ leading }, leading ? 'leader election: elected' : 'leader election: not leading');
    try {
      this.onChange(leading);
    } catch (err) {
      this.log.error({ err, leading }, 'leader election: onChange threw');
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
