/**
 * `weft perf agent`: runs its share of a distributed load test when a
 * coordinator (`weft perf run --agents`) asks. Protocol: agent-protocol.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentEvent, AgentRunRequest } from './agent-protocol.js';
import { resolveLoadOptions } from './options.js';
import { runLocal } from './threads.js';

const MAX_REQUEST_BYTES = 1 << 20;

export interface PerfAgent {
  host: string;
  port: number;
  close(): Promise<void>;
}

export function startPerfAgent(options: { host: string; port: number; log?: (line: string) => void }): Promise<PerfAgent> {
  const runs = new Set<AbortController>();
  const log = options.log ?? (() => {});
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/healthz') return void res.end('ok\n');
    if (req.method === 'POST' && req.url === '/v1/stop') {
      for (const run of runs) run.abort();
      return void res.end(`stopped ${runs.size}\n`);
    }
    if (req.method !== 'POST' || req.url !== '/v1/run') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return void res.end('not found: the agent serves POST /v1/run, POST /v1/stop and GET /healthz\n');
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > MAX_REQUEST_BYTES) req.destroy();
    });
    req.on('end', () => {
      const receivedAt = Date.now();
      let request: AgentRunRequest;
      try {
        request = JSON.parse(body) as AgentRunRequest;
        const { spec } = request;
        // The same checks as a local run; the spec is this agent's share.
        resolveLoadOptions({ ...spec, body: undefined, agents: [] });
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        return void res.end(`bad run request: ${error instanceof Error ? error.message : String(error)}\n`);
      }
      const run = new AbortController();
      runs.add(run);
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const send = (event: AgentEvent): boolean => res.write(`${JSON.stringify(event)}\n`);
      // The coordinator hanging up stops the run.
      res.on('close', () => run.abort());
      log(`run: ${request.spec.rate === undefined ? 'max' : `${request.spec.rate} rps`} on ${request.spec.connections} connections to ${request.spec.url}`);
      runLocal({ ...request.spec, startAtMs: receivedAt + request.startInMs }, { signal: run.signal, onProgress: (progress) => send({ type: 'progress', progress }) })
        .then(
          (result) => send({ type: 'result', result }),
          (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => {
          runs.delete(run);
          res.end();
        });
    });
  });
  // Runs last as long as the test: no request or keep-alive timeouts.
  server.requestTimeout = 0;
  server.headersTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      const address = server.address() as AddressInfo;
      resolve({
        host: address.address,
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const run of runs) run.abort();
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
