/**
 * TCP health check: connect, optionally send a payload, and succeed once every
 * expected payload has been received, in order. A connect-only check succeeds
 * on connect. Anything else (refused, closed early, timeout) is a network
 * failure, as in Envoy.
 */
import type { HealthCheckConfig } from '../../config/types.js';
import { readyEvent, runProbe, type Probe, type ProbeConnect } from './probe.js';

type TcpHealthCheck = NonNullable<HealthCheckConfig['tcp']>;

/** True when `expected` all occur in `received`, each after the previous one. */
function containsInOrder(received: Buffer, expected: readonly Buffer[]): boolean {
  let from = 0;
  for (const part of expected) {
    const at = received.indexOf(part, from);
    if (at < 0) return false;
    from = at + part.length;
  }
  return true;
}

export function createTcpProbe(config: TcpHealthCheck, connect: ProbeConnect): Probe {
  return (target, timeoutMs, report) =>
    runProbe(timeoutMs, report, (finish) => {
      const socket = connect(target.address, target.port);
      let received = Buffer.alloc(0);
      socket.on(readyEvent(socket), () => {
        if (config.send !== undefined) socket.write(config.send);
        if (config.receive.length === 0) finish('success');
      });
      socket.on('data', (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (containsInOrder(received, config.receive)) finish('success');
      });
      socket.on('error', () => finish('network-failure'));
      socket.on('close', () => finish('network-failure'));
      return () => socket.destroy();
    });
}
