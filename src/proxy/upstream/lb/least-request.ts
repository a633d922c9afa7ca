/**
 * LEAST_REQUEST as Envoy does it: with equal weights, the best of
 * `choice_count` random picks by active requests (power of two choices); with
 * unequal weights, a weighted pick where each host's weight is scaled by
 * 1 / (active requests + 1) (active_request_bias 1.0).
 */
import type { Host, LbContext } from '../types.js';
import { equalWeights, type LoadBalancer } from './load-balancer.js';

class LeastRequestLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private unweighted = true;
  private effective = new Float64Array(0);

  constructor(
    private readonly choiceCount: number,
    private readonly random: () => number,
  ) {}

  update(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.unweighted = equalWeights(hosts);
    this.effective = new Float64Array(hosts.length);
  }

  choose(ctx: LbContext): Host | undefined {
    const n = this.hosts.length;
    if (n <= 1) return this.hosts[0];
    return this.unweighted ? this.bestOfChoices(ctx.avoid) : this.weightedByLoad(ctx.avoid);
  }

  private bestOfChoices(avoid: Host | undefined): Host {
    const n = this.hosts.length;
    let best = -1;
    let bestLoad = Infinity;
    for (let c = 0; c < this.choiceCount; c++) {
      const i = Math.floor(this.random() * n);
      const host = this.hosts[i]!;
      const load = host === avoid ? Infinity : host.activeRequests;
      if (best < 0 || load < bestLoad) {
        best = i;
        bestLoad = load;
      }
    }
    // Every choice was the host to avoid: its neighbour will do.
    return bestLoad === Infinity ? this.hosts[(best + 1) % n]! : this.hosts[best]!;
  }

  private weightedByLoad(avoid: Host | undefined): Host {
    const n = this.hosts.length;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const host = this.hosts[i]!;
      const w = host === avoid ? 0 : host.weight / (host.activeRequests + 1);
      this.effective[i] = w;
      total += w;
    }
    let r = this.random() * total;
    for (let i = 0; i < n; i++) {
      r -= this.effective[i]!;
      if (r < 0) return this.hosts[i]!;
    }
    return this.hosts[n - 1]!;
  }
}

export function createLeastRequestLoadBalancer(choiceCount: number, random: () => number): LoadBalancer {
  return new LeastRequestLoadBalancer(Math.max(1, choiceCount), random);
}
