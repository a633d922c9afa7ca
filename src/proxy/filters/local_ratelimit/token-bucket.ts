/**
 * The local rate limit token bucket, as Envoy's AtomicTokenBucketImpl behaves
 * (Envoy >= 1.35 has no fill timer): starts full, refills continuously at
 * `tokens_per_fill / fill_interval` and is topped up lazily, from the clock, each
 * time it is used — so there is no timer at all. One token per request.
 */
export class TokenBucket {
  private tokens: number;
  private lastFill: number;
  private readonly tokensPerMs: number;

  constructor(
    readonly maxTokens: number,
    tokensPerFill: number,
    fillIntervalMs: number,
    private readonly now: () => number,
  ) {
    this.tokens = maxTokens;
    this.lastFill = now();
    this.tokensPerMs = tokensPerFill / fillIntervalMs;
  }

  /** Takes one token if a whole one is available. */
  tryConsume(): boolean {
    const now = this.now();
    if (this.tokens < this.maxTokens) this.tokens = Math.min(this.maxTokens, this.tokens + (now - this.lastFill) * this.tokensPerMs);
    this.lastFill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whole tokens left (`x-ratelimit-remaining`). */
  remaining(): number {
    return Math.floor(this.tokens);
  }

  /**
   * `x-ratelimit-reset` exactly as Envoy computes it: 0 while a token is left,
   * else the whole seconds of one token's refill time (rounded down).
   */
  resetSeconds(): number {
    if (this.tokens >= 1) return 0;
    return Math.floor(Math.ceil(1 / this.tokensPerMs) / 1000);
  }
}
