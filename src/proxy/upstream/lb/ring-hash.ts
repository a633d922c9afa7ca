/**
 * RING_HASH: a ketama-style consistent hash ring. Each host owns points at
 * hashString("<label>_<i>"), as many as its share of the ring (between
 * minimum_ring_size and maximum_ring_size, scaled so the lightest host still
 * gets whole entries, as Envoy does). A request's hash maps to the first point
 * at or after it, found by binary search. Removing one host moves only the
 * keys it owned.
 */
import { hashString } from '../../router/hash.js';
import type { Host, LbContext } from '../types.js';
import { type LoadBalancer } from './load-balancer.js';

class RingHashLoadBalancer implements LoadBalancer {
  private points = new Uint32Array(0);
  private owners: Host[] = [];

  constructor(
    private readonly minimumRingSize: number,
    private readonly maximumRingSize: number,
    private readonly random: () => number,
  ) {}

  update(hosts: readonly Host[]): void {
    const entries: Array<{ point: number; host: Host }> = [];
    const totalWeight = hosts.reduce((sum, h) => sum + h.weight, 0);
    if (totalWeight > 0) {
      const minShare = Math.min(...hosts.map((h) => h.weight / totalWeight));
      const scale = Math.min(Math.ceil(minShare * this.minimumRingSize) / minShare, this.maximumRingSize);
      // Cumulative targets so rounding never drifts the ring away from `scale` entries.
      let target = 0;
      for (const host of hosts) {
        target += (scale * host.weight) / totalWeight;
        for (let i = 0; entries.length < Math.round(target); i++) {
          entries.push({ point: hashString(`${host.label}_${i}`), host });
        }
      }
    }
    entries.sort((a, b) => a.point - b.point);
    this.points = Uint32Array.from(entries, (e) => e.point);
    this.owners = entries.map((e) => e.host);
  }

  choose(ctx: LbContext): Host | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    const hash = ctx.hash === undefined ? Math.floor(this.random() * 0x100000000) : ctx.hash >>> 0;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]! < hash) lo = mid + 1;
      else hi = mid;
    }
    const start = lo % n;
    const host = this.owners[start]!;
    if (host !== ctx.avoid) return host;
    // Walk on to the next distinct host, as a retry on a ring would.
    for (let i = 1; i < n; i++) {
      const next = this.owners[(start + i) % n]!;
      if (next !== host) return next;
    }
    return host;
  }
}

export function createRingHashLoadBalancer(
  minimumRingSize: number,
  maximumRingSize: number,
  random: () => number,
): LoadBalancer {
  return new RingHashLoadBalancer(minimumRingSize, maximumRingSize, random);
}
