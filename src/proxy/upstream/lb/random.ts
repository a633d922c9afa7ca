/** RANDOM: a weighted random pick over cumulative weights, by binary search. */
import type { Host, LbContext } from '../types.js';
import { type LoadBalancer } from './load-balancer.js';

class RandomLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  /** cumulative[i] = sum of weights of hosts 0..i. */
  private cumulative = new Float64Array(0);

  constructor(private readonly random: () => number) {}

  update(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.cumulative = new Float64Array(hosts.length);
    let sum = 0;
    hosts.forEach((h, i) => (this.cumulative[i] = sum += h.weight));
  }

  choose(ctx: LbContext): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    const i = this.pickIndex();
    const host = this.hosts[i]!;
    return host === ctx.avoid && n > 1 ? this.hosts[(i + 1) % n]! : host;
  }

  private pickIndex(): number {
    const r = this.random() * this.cumulative[this.cumulative.length - 1]!;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

export function createRandomLoadBalancer(random: () => number): LoadBalancer {
  return new RandomLoadBalancer(random);
}
