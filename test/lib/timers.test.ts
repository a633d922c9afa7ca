import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Deadline, DeadlineWheel } from '../../src/lib/timers.js';

/** A wheel on a clock the test moves; the wheel's own 100 ms tick still runs in real time. */
function fakeWheel(): { wheel: DeadlineWheel; advance(ms: number): void } {
  let now = 1_000;
  return { wheel: new DeadlineWheel(() => now), advance: (ms) => (now += ms) };
}

/** Long enough for the wheel's 100 ms tick to run at least once. */
const aTick = () => sleep(250);

describe('DeadlineWheel', () => {
  it('fires coarse deadlines once they are due, and only those', async () => {
    const { wheel, advance } = fakeWheel();
    const fired: string[] = [];
    const soon = new Deadline(wheel, () => fired.push('soon'));
    const later = new Deadline(wheel, () => fired.push('later'));
    soon.arm(5_000);
    later.arm(60_000);
    assert.equal(wheel.size, 2);
    await aTick();
    assert.deepEqual(fired, [], 'nothing is due yet');
    advance(5_000);
    await aTick();
    assert.deepEqual(fired, ['soon']);
    assert.equal(soon.armed, false);
    assert.equal(later.armed, true);
    assert.equal(wheel.size, 1);
    later.disarm();
    assert.equal(wheel.size, 0);
    advance(60_000);
    await aTick();
    assert.deepEqual(fired, ['soon'], 'a disarmed deadline never fires');
  });

  it('keeps its list whole when deadlines leave from the head, the middle and the tail', async () => {
    const { wheel, advance } = fakeWheel();
    const fired: number[] = [];
    const deadlines = Array.from({ length: 6 }, (_, i) => new Deadline(wheel, () => fired.push(i)));
    for (const deadline of deadlines) deadline.arm(3_000);
    // Armed last = the list's head; armed first = its tail.
    deadlines[5]!.disarm();
    deadlines[2]!.disarm();
    deadlines[0]!.disarm();
    deadlines[3]!.arm(3_000); // re-armed: leaves and joins again
    assert.equal(wheel.size, 3);
    advance(3_000);
    await aTick();
    assert.deepEqual(fired.sort(), [1, 3, 4]);
    assert.equal(wheel.size, 0);
  });

  it('extends an armed deadline in place and honours what expiry callbacks do to others', async () => {
    const { wheel, advance } = fakeWheel();
    const fired: string[] = [];
    const idle = new Deadline(wheel, () => fired.push('idle'));
    const victim = new Deadline(wheel, () => fired.push('victim'));
    const killer = new Deadline(wheel, () => {
      fired.push('killer');
      victim.disarm();
      idle.arm(10_000);
    });
    idle.arm(2_000);
    victim.arm(2_000);
    killer.arm(2_000);
    idle.extend(4_000);
    advance(2_000);
    await aTick();
    // killer and victim were both due; whichever ran first, a disarmed victim must not fire after killer.
    assert.ok(fired.includes('killer'));
    if (fired.indexOf('victim') > fired.indexOf('killer')) assert.fail('victim fired after being disarmed');
    assert.equal(idle.armed, true, 'the extended deadline was not due');
    advance(4_000);
    await aTick();
    assert.ok(!fired.includes('idle'), 'killer re-armed idle for 10 s');
    advance(10_000);
    await aTick();
    assert.equal(fired.filter((f) => f === 'idle').length, 1);
    assert.equal(wheel.size, 0);
  });

  it('uses a precise timer below two seconds', async () => {
    const { wheel } = fakeWheel();
    let fired = 0;
    const short = new Deadline(wheel, () => fired++);
    short.arm(20);
    assert.equal(short.armed, true);
    assert.equal(short.onWheel, false);
    assert.equal(wheel.size, 0);
    await sleep(60);
    assert.equal(fired, 1);
    assert.equal(short.armed, false);
  });
});
