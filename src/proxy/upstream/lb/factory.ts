/** Picks the load balancer for a cluster's lb_policy. */
import type { ClusterConfig } from '../../config/types.js';
import { createLeastRequestLoadBalancer } from './least-request.js';
import type { LoadBalancer } from './load-balancer.js';
import { createRandomLoadBalancer } from './random.js';
import { createRingHashLoadBalancer } from './ring-hash.js';
import { createRoundRobinLoadBalancer } from './round-robin.js';

export function createLoadBalancer(config: ClusterConfig, random: () => number): LoadBalancer {
  switch (config.lbPolicy) {
    case 'ROUND_ROBIN':
      return createRoundRobinLoadBalancer();
    case 'LEAST_REQUEST':
      return createLeastRequestLoadBalancer(config.leastRequestChoiceCount, random);
    case 'RANDOM':
      return createRandomLoadBalancer(random);
    // Maglev is another consistent hash; the ring gives the same stickiness guarantees.
    case 'RING_HASH':
    case 'MAGLEV':
      return createRingHashLoadBalancer(config.ringHash.minimumRingSize, config.ringHash.maximumRingSize, random);
  }
}
