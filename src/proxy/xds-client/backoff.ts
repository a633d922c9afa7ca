/**
 * Exponential back-off with jitter: the delay is uniform in [cap/2, cap], so a
 * fleet of proxies that lost the same control plane does not reconnect in step,
 * and never retries in a tight loop.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Injectable for tests; Math.random by default. */
  random?: () => number;
}

export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions) {}

  /** The delay before the next attempt; each call doubles the cap up to maxMs. */
  next(): number {
    const cap = Math.min(this.options.maxMs, this.options.baseMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    return Math.round(cap / 2 + ((this.options.random ?? Math.random)() * cap) / 2);
  }

  /** After a success the next failure starts from baseMs again. */
  reset(): void {
    this.attempts = 0;
  }
}
