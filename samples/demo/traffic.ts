/**
 * The demo's steady trickle: GET a URL at a fixed rate, tally the answers by
 * which reviews instance served them (productpage's "Reviews served by"), and
 * print one summary line per period, so the TrafficSplit is visible at a glance.
 */
export interface TrafficOptions {
  url: string;
  requestsPerSecond: number;
  summaryEveryMs: number;
  print: (line: string) => void;
}

export interface Traffic {
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

const REQUEST_TIMEOUT_MS = 5000;

/** The reviews instance named on a product page, if it shows one. */
export function reviewsServedBy(html: string): string | undefined {
  return /class="served-by">([^<]+)</.exec(html)?.[1];
}

export function startTraffic(options: TrafficOptions): Traffic {
  const inFlight = new Set<Promise<void>>();
  let tally = new Map<string, number>();
  let sent = 0;
  const count = (outcome: string): void => void tally.set(outcome, (tally.get(outcome) ?? 0) + 1);

  const send = (): void => {
    sent++;
    const request = fetch(options.url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS), headers: { 'user-agent': 'weft-demo-traffic' } })
      .then(async (res) => {
        const body = await res.text();
        count(res.status === 200 ? (reviewsServedBy(body) ?? 'no reviews') : `HTTP ${res.status}`);
      })
      .catch((err: Error) => count(err.name === 'TimeoutError' ? 'timeout' : 'connection error'))
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  };
  const summarize = (): void => {
    const parts = [...tally.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([outcome, n]) => `${outcome} ${n}`);
    options.print(`traffic: ${sent} requests in ${options.summaryEveryMs / 1000} s -> ${parts.join(', ') || 'no answers yet'}`);
    tally = new Map();
    sent = 0;
  };

  const sender = setInterval(send, 1000 / options.requestsPerSecond);
  const reporter = setInterval(summarize, options.summaryEveryMs);
  return {
    async stop() {
      clearInterval(sender);
      clearInterval(reporter);
      await Promise.all(inFlight);
    },
  };
}
