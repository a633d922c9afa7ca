import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWrkOutput } from '../../../bench/lib/wrk.js';

// Captured from wrk 4.1.0 with --latency.
const CLEAN_RUN = `Running 2s test @ http://127.0.0.1:18089/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   313.79us  102.11us   1.92ms   70.00%
    Req/Sec    81.35k     1.99k   85.05k    80.00%
  Latency Distribution
     50%  336.00us
     75%  373.00us
     90%  404.00us
     99%  545.00us
  161723 requests in 2.00s, 22.98MB read
Requests/sec:  80792.71
Transfer/sec:     11.48MB
`;

const TROUBLED_RUN = `Running 10s test @ http://127.0.0.1:8080/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.40ms   40.10ms   1.20s    97.00%
    Req/Sec     3.10k   500.00     4.00k    70.00%
  Latency Distribution
     50%    2.50ms
     75%    4.00ms
     90%   10.00ms
     99%    1.20s
  31000 requests in 10.00s, 4.00MB read
  Socket errors: connect 1, read 2, write 3, timeout 4
  Non-2xx or 3xx responses: 17
Requests/sec:   3100.00
Transfer/sec:    409.60KB
`;

test('reads throughput and the latency distribution, converting us to ms', () => {
  const result = parseWrkOutput(CLEAN_RUN);
  assert.equal(result.requestsPerSec, 80792.71);
  assert.equal(result.requests, 161723);
  assert.ok(Math.abs(result.latencyMs.p50 - 0.336) < 1e-9);
  assert.ok(Math.abs(result.latencyMs.p75 - 0.373) < 1e-9);
  assert.ok(Math.abs(result.latencyMs.p90 - 0.404) < 1e-9);
  assert.ok(Math.abs(result.latencyMs.p99 - 0.545) < 1e-9);
  assert.equal(result.socketErrors, 0);
  assert.equal(result.badResponses, 0);
});

test('converts ms and s and sums socket errors and bad responses', () => {
  const result = parseWrkOutput(TROUBLED_RUN);
  assert.equal(result.latencyMs.p50, 2.5);
  assert.equal(result.latencyMs.p90, 10);
  assert.equal(result.latencyMs.p99, 1200);
  assert.equal(result.socketErrors, 10);
  assert.equal(result.badResponses, 17);
  assert.equal(result.requestsPerSec, 3100);
});

test('does not take the thread-stats Latency line for a percentile', () => {
  // Thread stats mention "Latency ... 70.00%"; only the distribution block counts.
  const withoutDistribution = CLEAN_RUN.replace(/ {2}Latency Distribution\n(?: +\d+% .*\n)+/, '');
  assert.throws(() => parseWrkOutput(withoutDistribution), /no 50% latency/);
});

test('rejects output that is not a wrk report', () => {
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /unrecognised wrk output/);
});
