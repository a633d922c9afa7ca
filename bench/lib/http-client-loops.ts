/**
 * Closed-loop throughput of Node's stock HTTP clients, for comparison with the
 * hand-written client of `weft perf` (src/perf/clients/http1.ts): `connections`
 * loops, each sending its next request when the previous answer has been read.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export type StockClient = 'node:http' | 'fetch (undici)';

function httpGet(agent: http.Agent, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

/** Responses per second over `durationMs`. */
export async function stockClientRps(client: StockClient, url: string, connections: number, durationMs: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const once = client === 'node:http' ? () => httpGet(agent, url) : async () => void (await (await fetch(url)).arrayBuffer());
  const end = performance.now() + durationMs;
  let responses = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      await once();
      responses++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = performance.now() - started;
  agent.destroy();
  return responses / (elapsed / 1000);
}
