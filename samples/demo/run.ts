/**
 * `weft demo`: BookInfo on the mesh (bookinfo.ts), or with `--static` the data
 * plane alone from a static bootstrap (static.ts). Both run every part as a
 * child process with its log under the data dir, print where things are, and
 * stop everything cleanly on Ctrl-C.
 */
import { runBookinfoDemo } from './bookinfo.js';
import { runStaticDemo } from './static.js';

export interface DemoOptions {
  static: boolean;
  /** Where the store, logs and generated bootstraps go; wiped at start. */
  dataDir: string;
  /** BookInfo: every port is derived from it (bookinfo-plan.ts; default 15000). */
  portBase?: number;
  /** BookInfo: the trickle of requests to productpage. */
  requestsPerSecond: number;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  if (options.static) return runStaticDemo({ dataDir: options.dataDir });
  return runBookinfoDemo(options);
}
