/**
 * Coarse deadlines for per-request and per-connection timeouts (STYLE.md 9).
 *
 * A stream owns one `Deadline` for its whole life and re-arms it. The wheel
 * keeps armed deadlines in an intrusive doubly linked list (each deadline is
 * its own node), so arming and disarming allocate nothing and a disarmed
 * deadline is unlinked at once: nothing keeps a finished stream reachable.
 * (A Set did the same job, but its backing table is reallocated as entries
 * come and go, ~3 times per request; under load those tables outlived
 * scavenges and filled the old generation.) A single unref'd tick (started
 * only while something is armed) fires what has expired. Resolution is
 * TICK_MS, which is fine for timeouts measured in seconds; sub-second timeouts
 * (per-try timeouts, short fault delays) use a precise `setTimeout` instead —
 * `arm()` chooses.
 */
export type Clock = () => number;

const TICK_MS = 100;
/** Timeouts at or above this use the shared tick; below it, a precise timer. */
const COARSE_THRESHOLD_MS = 2000;

export class DeadlineWheel {
  private head: Deadline | undefined;
  private count = 0;
  private tick: NodeJS.Timeout | undefined;

  constructor(readonly now: Clock = performanceNow) {}

  /** How many deadlines are armed on the wheel. */
  get size(): number {
    return this.count;
  }

  add(deadline: Deadline): void {
    deadline.wheelNext = this.head;
    deadline.wheelPrev = undefined;
    if (this.head !== undefined) this.head.wheelPrev = deadline;
    this.head = deadline;
    this.count++;
    if (this.tick === undefined) {
      this.tick = setInterval(() => this.fire(), TICK_MS);
      this.tick.unref();
    }
  }

  remove(deadline: Deadline): void {
    const { wheelPrev: prev, wheelNext: next } = deadline;
    if (prev !== undefined) prev.wheelNext = next;
    else this.head = next;
    if (next !== undefined) next.wheelPrev = prev;
    deadline.wheelPrev = undefined;
    deadline.wheelNext = undefined;
    this.count--;
    if (this.count === 0 && this.tick !== undefined) {
      clearInterval(this.tick);
      this.tick = undefined;
    }
  }

  private fire(): void {
    const now = this.now();
    // Collected first: an expiry callback may arm or disarm others (the list changes under a walk).
    let expired: Deadline[] | undefined;
    for (let deadline = this.head; deadline !== undefined; deadline = deadline.wheelNext) {
      if (deadline.expiresAt <= now) (expired ??= []).push(deadline);
    }
    if (expired === undefined) return;
    for (const deadline of expired) {
      // Skip one that an earlier callback disarmed or moved.
      if (!deadline.onWheel || deadline.expiresAt > now) continue;
      deadline.disarm();
      deadline.expire();
    }
  }
}

export class Deadline {
  expiresAt = 0;
  /** The wheel's list links, touched only by DeadlineWheel. */
  wheelPrev: Deadline | undefined = undefined;
  wheelNext: Deadline | undefined = undefined;
  private precise: NodeJS.Timeout | undefined;
  private inWheel = false;

  constructor(
    private readonly wheel: DeadlineWheel,
    private readonly onExpire: () => void,
  ) {}

  /** (Re-)arms to fire `ms` from now; `ms <= 0` disarms. */
  arm(ms: number): void {
    this.disarm();
    if (ms <= 0) return;
    this.expiresAt = this.wheel.now() + ms;
    if (ms >= COARSE_THRESHOLD_MS) {
      this.inWheel = true;
      this.wheel.add(this);
    } else {
      this.precise = setTimeout(() => this.expire(), ms);
    }
  }

  /** Moves an armed coarse deadline forward without touching the wheel (activity on an idle timer). */
  extend(ms: number): void {
    if (this.inWheel) this.expiresAt = this.wheel.now() + ms;
    else this.arm(ms);
  }

  disarm(): void {
    if (this.inWheel) {
      this.inWheel = false;
      this.wheel.remove(this);
    }
    if (this.precise !== undefined) {
      clearTimeout(this.precise);
      this.precise = undefined;
    }
  }

  get armed(): boolean {
    return this.inWheel || this.precise !== undefined;
  }

  /** Armed on the wheel (a coarse deadline). */
  get onWheel(): boolean {
    return this.inWheel;
  }

  /** Called by the wheel or the precise timer. */
  expire(): void {
    this.inWheel = false;
    this.precise = undefined;
    this.onExpire();
  }
}

export function performanceNow(): number {
  return performance.now();
}
