/**
 * A target for the load generator's accuracy tests, run as its own process so
 * its timers never share an event loop with the generator under test:
 *
 *   node target-server.js [--delay MS] [--stall-after MS --stall-for MS] [--host H]
 *
 * --delay: every response is sent MS after its request arrived (timed with a
 *   coarse timer then setImmediate polling, so it is exact to ~0.1 ms, not
 *   Node's 1 ms timer granularity).
 * --stall-after/--stall-for: once, starting MS after the first request, the
 *   server answers nothing for --stall-for ms (requests arriving meanwhile are
 *   answered when the stall ends), as a GC pause or a stuck upstream would.
 * Prints `listening PORT` when ready; `GET /__stats` answers the per-peer
 * request counts as JSON.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    delay: { type: 'string', default: '0' },
    'stall-after': { type: 'string' },
    'stall-for': { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const delayMs = Number(values.delay);
const stallAfterMs = values['stall-after'] === undefined ? undefined : Number(values['stall-after']);
const stallForMs = Number(values['stall-for']);

const byPeer: Record<string, number> = {};
let stallStart = Number.POSITIVE_INFINITY;

function answer(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
  res.end('ok');
}

function answerAt(res: ServerResponse, at: number): void {
  const wait = at - performance.now();
  if (wait <= 0) return answer(res);
  // Timers fire up to ~1 ms late: sleep until 1 ms before, then poll (a short spin, not a 2 ms one).
  if (wait > 1) setTimeout(() => answerAt(res, at), wait - 1);
  else setImmediate(() => answerAt(res, at));
}

const server = createServer((req, res) => {
  if (req.url === '/__stats') {
    res.setHeader('content-type', 'application/json');
    return void res.end(JSON.stringify(byPeer));
  }
  const now = performance.now();
  const peer = req.socket.remoteAddress ?? 'unknown';
  byPeer[peer] = (byPeer[peer] ?? 0) + 1;
  if (stallAfterMs !== undefined && stallStart === Number.POSITIVE_INFINITY) stallStart = now + stallAfterMs;
  let at = now + delayMs;
  if (at >= stallStart && now < stallStart + stallForMs) at = Math.max(at, stallStart + stallForMs);
  req.resume();
  req.on('end', () => answerAt(res, at));
});
server.keepAliveTimeout = 60_000;
server.listen(0, values.host, () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
// Never outlive the test that started it: stdin is a pipe from the test process.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
// And never run long, whatever happens.
setTimeout(() => process.exit(0), 10 * 60_000).unref();
