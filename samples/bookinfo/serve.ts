/**
 * Runs one BookInfo service:
 *   node dist/samples/bookinfo/serve.js productpage --port 9080 --outbound http://127.0.0.1:15001
 *   node dist/samples/bookinfo/serve.js reviews --version v2 --port 9082 --outbound http://127.0.0.1:15021
 * Calls to other services name them by their mesh URL (`--details http://details:9080`,
 * the default) and, with `--outbound`, connect to that sidecar listener instead,
 * the Host header still naming the destination. SIGTERM/SIGINT close and exit 0.
 */
import { parseArgs } from 'node:util';
import { detailsHandler } from './details.js';
import { listen, type Upstream } from './http.js';
import { productPageHandler } from './productpage.js';
import { ratingsHandler } from './ratings.js';
import { REVIEWS_VERSIONS, reviewsHandler, type ReviewsVersion } from './reviews.js';

const USAGE = 'usage: serve.js productpage|details|reviews|ratings [--port N] [--host H] [--version v1|v2|v3] [--instance NAME] [--outbound URL] [--details URL] [--reviews URL] [--ratings URL] [--timeout MS]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    port: { type: 'string', default: '9080' },
    host: { type: 'string', default: '127.0.0.1' },
    version: { type: 'string', default: 'v1' },
    instance: { type: 'string' },
    outbound: { type: 'string' },
    details: { type: 'string', default: 'http://details:9080' },
    reviews: { type: 'string', default: 'http://reviews:9080' },
    ratings: { type: 'string', default: 'http://ratings:9080' },
    timeout: { type: 'string', default: '3000' },
  },
});

function fail(reason: string): never {
  process.stderr.write(`bookinfo: ${reason}\n${USAGE}\n`);
  process.exit(2);
}

function url(flag: string, value: string): URL {
  try {
    return new URL(value);
  } catch {
    return fail(`--${flag}: not a URL: ${value}`);
  }
}

const service = positionals[0] ?? fail('which service?');
const version = values.version as ReviewsVersion;
if (!REVIEWS_VERSIONS.includes(version)) fail(`--version must be one of ${REVIEWS_VERSIONS.join(', ')}`);
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: not a port: ${values.port}`);
const timeoutMs = Number(values.timeout);
if (!(timeoutMs > 0)) fail(`--timeout: not a positive number of milliseconds: ${values.timeout}`);
const instance = values.instance ?? `${service}-${version}`;
const via = values.outbound === undefined ? undefined : url('outbound', values.outbound);
const upstream = (name: 'details' | 'reviews' | 'ratings'): Upstream => ({ service: url(name, values[name]), ...(via === undefined ? {} : { via }) });
const onUpstreamError = (err: Error): void => void process.stderr.write(`${instance}: ${err.message}\n`);

function handlerFor(name: string): Parameters<typeof listen>[0] {
  switch (name) {
    case 'productpage':
      return productPageHandler({ details: upstream('details'), reviews: upstream('reviews'), ratings: upstream('ratings'), timeoutMs, onUpstreamError });
    case 'details':
      return detailsHandler();
    case 'reviews':
      return reviewsHandler({ version, instance, ratings: upstream('ratings'), ratingsTimeoutMs: timeoutMs, onUpstreamError });
    case 'ratings':
      return ratingsHandler();
    default:
      return fail(`unknown service: ${name}`);
  }
}

const running = await listen(handlerFor(service), port, values.host).catch((err: Error) => fail(`cannot listen on ${values.host}:${port}: ${err.message}`));
process.stdout.write(`${instance} listening on http://${values.host}:${running.port}${via === undefined ? '' : `, calling out through ${via.host}`}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void running.close().then(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
