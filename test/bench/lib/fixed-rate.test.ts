import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { chargedLatencyNs, FixedRateSchedule, generatorLagNs, runFixedRate } from '../../../bench/lib/fixed-rate.js';
import { freePort } from '../../../bench/lib/ports.js';

test('schedules request i at i/rate seconds, as whole nanoseconds', () => {
  const schedule = new FixedRateSchedule(1000, 2500);
  assert.equal(schedule.total, 2500);
  assert.equal(schedule.intendedAtNs(0), 0);
  assert.equal(schedule.intendedAtNs(1), 1_000_000);
  assert.equal(schedule.intendedAtNs(2499), 2_499_000_000);
  // 1e9 / 3 is not whole: round up, so nothing is due before its exact time.
  assert.equal(new FixedRateSchedule(3, 1000).intendedAtNs(1), 333_333_334);
});

test('dueCount agrees exactly with intendedAtNs, for awkward rates too', () => {
  for (const rate of [1, 3, 7, 999, 1000, 1234.5]) {
    const schedule = new FixedRateSchedule(rate, 3000);
    for (let i = 0; i < schedule.total; i++) {
      const at = schedule.intendedAtNs(i);
      assert.equal(schedule.dueCount(at), i + 1, `rate ${rate}: request ${i} is due at its own time`);
      assert.equal(schedule.dueCount(at - 1), i, `rate ${rate}: request ${i} is not due 1 ns earlier`);
    }
  }
});

test('dueCount is 0 before the start and never exceeds the run', () => {
  const schedule = new FixedRateSchedule(1000, 10);
  assert.equal(schedule.dueCount(-1), 0);
  assert.equal(schedule.dueCount(0), 1);
  assert.equal(schedule.dueCount(60e9), 10);
});

test('a request that waited for a busy connection is charged from its intended time', () => {
  // Intended at 10 ms; the only connection freed at 50 ms; sent at 50.2 ms; answered at 51 ms.
  // 0.8 ms on the wire + 40 ms waiting for the connection; the 0.2 ms sending lag is ours.
  assert.equal(chargedLatencyNs(10e6, 50e6, 50.2e6, 51e6), 40.8e6);
  assert.equal(generatorLagNs(10e6, 50e6, 50.2e6), 0.2e6);
});

test("the generator's own lateness is not charged to the target", () => {
  // A connection was idle since 5 ms; the timer fired 0.9 ms late.
  assert.equal(chargedLatencyNs(10e6, 5e6, 10.9e6, 11.2e6), 0.3e6);
  assert.equal(generatorLagNs(10e6, 5e6, 10.9e6), 0.9e6);
});

async function withServer(handler: (index: number, res: http.ServerResponse) => void, body: (port: number) => Promise<void>): Promise<void> {
  let index = 0;
  const server = http.createServer((_req, res) => handler(index++, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body((server.address() as AddressInfo).port);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

test('a stall is charged to every request queued behind it (coordinated omission)', async () => {
  const STALL_MS = 200;
  await withServer(
    (index, res) => (index === 20 ? setTimeout(() => res.end('ok'), STALL_MS) : res.end('ok')),
    async (port) => {
      // One connection, 200 rps for 1 s: requests due during the stall wait for it.
      const result = await runFixedRate({ host: '127.0.0.1', port, paths: ['/'], ratePerSec: 200, durationMs: 1000, connections: 1 });
      assert.equal(result.scheduled, 200);
      assert.equal(result.recorded, 200);
      assert.equal(result.errors, 0);
      // The stalled request itself. The upper bound catches clocks started too early (e.g. at the run's
      // start: the last request would be charged ~1 s); it is loose because this process also serves.
      assert.ok(result.latencyMs.max >= STALL_MS * 0.95 && result.latencyMs.max < STALL_MS * 4, `max ${result.latencyMs.max}`);
      // ~40 requests (20 %) fall due during the stall; timed from their send time only the stalled one would be slow.
      assert.ok(result.latencyMs.p90 >= STALL_MS / 4, `p90 ${result.latencyMs.p90}`);
    },
  );
});

test('counts non-2xx responses as errors and leaves warm-up requests unrecorded', async () => {
  await withServer(
    (index, res) => {
      res.statusCode = index % 4 === 3 ? 503 : 200;
      res.end('ok');
    },
    async (port) => {
      // 100 requests over 250 ms on one connection, so they arrive in schedule order.
      const result = await runFixedRate({ host: '127.0.0.1', port, paths: ['/a', '/b'], ratePerSec: 400, durationMs: 250, connections: 1, warmupMs: 125 });
      assert.equal(result.scheduled, 100);
      assert.equal(result.errors, 25);
      // Requests 50..99 are after warm-up; 13 of them (51, 55, ..., 99) got a 503.
      assert.equal(result.recorded, 37);
      assert.equal(result.achievedRps, 300);
    },
  );
});

test('an unreachable target fails every request instead of hanging', async () => {
  const port = await freePort(); // nothing listens there
  const result = await runFixedRate({ host: '127.0.0.1', port, paths: ['/'], ratePerSec: 1000, durationMs: 100, connections: 4 });
  assert.equal(result.scheduled, 100);
  assert.equal(result.errors, 100);
  assert.equal(result.recorded, 0);
});
