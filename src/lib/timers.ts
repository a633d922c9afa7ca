/**
 * Coarse deadlines for per-request and per-connection timeouts (STYLE.md 9).
 *
 * A stream owns one `Deadline` for its whole life and re-arms it; arming is a
 * Set insert, not a timer allocation. A single unref'd tick (started only while
 * something is armed) fires what has expired. Resolution is TICK_MS, which is
 * fine for timeouts measured in seconds; sub-second timeouts (per-try timeouts,
 * short fault delays) use a precise `setTimeout` instead — `arm()` chooses.
 */
export type Clock = () => number;

const TICK_MS = 100;
/** Timeouts at or above this use the shared tick; below it, a precise timer. */
const COARSE_THRESHOLD_MS = 2000;

export class DeadlineWheel {
  private readonly armed = new Set<Deadline>();
  private tick: NodeJS.Timeout | undefined;

  constructor(readonly now: Clock = performanceNow) {}

  add(deadline: Deadline): void {
    this.armed.add(deadline);
    if (this.tick === undefined) {
      this.tick = setInterval(() => this.fire(), TICK_MS);
      this.tick.unref();
    }
  }

  remove(deadline: Deadline): void {
    this.armed.delete(deadline);
    if (this.armed.size === 0 && this.tick !== undefined) {
      clearInterval(this.tick);
      this.tick = undefined;
    }
  }

  private fire(): void {
    const now = this.now();
    for (const deadline of this.armed) {
      if (deadline.expiresAt <= now) {
        this.remove(deadline);
        deadline.expire();
      }
    }
  }
}

export class Deadline {
  expiresAt = 0;
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
