/**
 * ROUND_ROBIN: smooth weighted round robin (nginx's), which interleaves hosts
 * in proportion to weight instead of sending bursts to the heaviest. Plain
 * rotation when all weights are equal.
 */
import type { Host, LbContext } from '../types.js';
import { equalWeights, type LoadBalancer } from './load-balancer.js';

class RoundRobinLoadBalancer implements LoadBalancer {
  private hosts: readonly Host[] = [];
  private weights = new Float64Array(0);
  private current = new Float64Array(0);
  private totalWeight = 0;
  private unweighted = true;
  private next = 0;

  update(hosts: readonly Host[]): void {
    this.hosts = hosts;
    this.unweighted = equalWeights(hosts);
    this.weights = Float64Array.from(hosts, (h) => h.weight);
    this.current = new Float64Array(hosts.length);
    this.totalWeight = this.weights.reduce((a, b) => a + b, 0);
    this.next = hosts.length === 0 ? 0 : this.next % hosts.length;
  }

  choose(ctx: LbContext): Host | undefined {
    if (this.hosts.length === 0) return undefined;
    const host = this.pick();
    return host === ctx.avoid && this.hosts.length > 1 ? this.pick() : host;
  }

  private pick(): Host {
    const n = this.hosts.length;
    if (this.unweighted) {
      const host = this.hosts[this.next]!;
      this.next = (this.next + 1) % n;
      return host;
    }
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.totalWeight;
    return this.hosts[best]!;
  }
}

export function createRoundRobinLoadBalancer(): LoadBalancer {
  return new RoundRobinLoadBalancer();
}
