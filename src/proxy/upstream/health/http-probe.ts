/**
 * HTTP health check: `GET <path>` over a fresh connection (the cluster's
 * transport socket: TLS for an mTLS cluster) with
 * `Host: <host or cluster name>`, `User-Agent: Envoy/HC` and the configured
 * extra headers; healthy when the status falls in one of the expected ranges.
 */
import * as http from 'node:http';
import type { HealthCheckConfig } from '../../config/types.js';
import { runProbe, type Probe, type ProbeConnect } from './probe.js';

type HttpHealthCheck = NonNullable<HealthCheckConfig['http']>;

export function createHttpProbe(config: HttpHealthCheck, clusterName: string, connect: ProbeConnect): Probe {
  // Headers are built once; each probe only adds the target.
  const headers: Record<string, string | string[]> = { host: config.host ?? clusterName, 'user-agent': 'Envoy/HC' };
  for (const { key, value, appendAction } of config.requestHeadersToAdd) {
    const name = key.toLowerCase();
    const existing = headers[name];
    switch (appendAction) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        headers[name] = existing === undefined ? value : [...[existing].flat(), value];
        break;
      case 'ADD_IF_ABSENT':
        if (existing === undefined) headers[name] = value;
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        headers[name] = value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (existing !== undefined) headers[name] = value;
        break;
    }
  }
  headers.connection = 'close';
  const expected = (status: number): boolean => config.expectedStatuses.some(([start, end]) => status >= start && status < end);

  return (target, timeoutMs, report) =>
    runProbe(timeoutMs, report, (finish) => {
      // createConnection (and no agent, which would ignore it): one fresh connection per probe.
      const req = http.request({ host: target.address, port: target.port, path: config.path, method: 'GET', headers, createConnection: () => connect(target.address, target.port) });
      req.on('response', (res) => {
        finish(expected(res.statusCode ?? 0) ? 'success' : 'active-failure');
        res.resume();
      });
      req.on('error', () => finish('network-failure'));
      req.end();
      return () => req.destroy();
    });
}
