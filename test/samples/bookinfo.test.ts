/**
 * The BookInfo services, run in-process on free ports and called over real
 * HTTP: each endpoint, the three reviews versions, failures of a dependency,
 * and header propagation. Service-to-service calls go through a stand-in for
 * the sidecar's outbound listener that routes on the Host header (as the mesh
 * does) and records what it forwards; the sample's serve.js runs as a process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { detailsHandler } from '../../samples/bookinfo/details.js';
import { listen, PROPAGATED_HEADERS, type RunningService, type Upstream } from '../../samples/bookinfo/http.js';
import { DETAILS_UNAVAILABLE, productPageHandler, REVIEWS_UNAVAILABLE } from '../../samples/bookinfo/productpage.js';
import { ratingsHandler } from '../../samples/bookinfo/ratings.js';
import { RATINGS_UNAVAILABLE, reviewsHandler, type ProductReviews, type ReviewsVersion } from '../../samples/bookinfo/reviews.js';

const SERVE = fileURLToPath(new URL('../../samples/bookinfo/serve.js', import.meta.url));

interface Forwarded {
  host: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/** The sidecar's outbound listener, reduced to what the apps rely on: route by Host, 404 for an unknown one. */
async function startHostRouter(routes: Map<string, () => number | undefined>): Promise<{ url: URL; seen: Forwarded[]; close(): Promise<void> }> {
  const seen: Forwarded[] = [];
  const server: Server = createServer((req, res) => {
    const host = req.headers.host ?? '';
    seen.push({ host, path: req.url ?? '', headers: req.headers });
    const port = routes.get(host)?.();
    if (port === undefined) {
      res.writeHead(404).end();
      return;
    }
    const upstream = request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(503).end('upstream connect error'));
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    seen,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function getJson(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await get(port, path, headers);
  assert.match(res.type, /^application\/json/);
  return { status: res.status, body: JSON.parse(res.text) as unknown };
}

describe('bookinfo services', () => {
  const running: RunningService[] = [];
  /** Where the router sends each service; a test takes one away (undefined: the router answers 404) and puts it back. */
  const ports = new Map<string, number | undefined>();
  let router: Awaited<ReturnType<typeof startHostRouter>>;
  const via = (service: string): Upstream => ({ service: new URL(`http://${service}:9080`), via: router.url });
  const start = async (handler: Parameters<typeof listen>[0]): Promise<number> => {
    const service = await listen(handler, 0);
    running.push(service);
    return service.port;
  };
  let details: number;
  let ratings: number;
  const reviews = new Map<ReviewsVersion, number>();
  let productpage: number;

  before(async () => {
    router = await startHostRouter(new Map(['details', 'reviews', 'ratings'].map((name) => [`${name}:9080`, () => ports.get(name)])));
    details = await start(detailsHandler());
    ratings = await start(ratingsHandler());
    for (const version of ['v1', 'v2', 'v3'] as const) {
      reviews.set(version, await start(reviewsHandler({ version, instance: `reviews-${version}`, ratings: via('ratings') })));
    }
    productpage = await start(productPageHandler({ details: via('details'), reviews: via('reviews'), ratings: via('ratings'), timeoutMs: 2000 }));
    ports.set('details', details);
    ports.set('ratings', ratings);
    ports.set('reviews', reviews.get('v2'));
  });

  after(async () => {
    await Promise.all(running.map((s) => s.close()));
    await router.close();
  });

  it('details answers the book\'s facts, 400 for a non-numeric id, 404 elsewhere, 405 for other methods', async () => {
    assert.deepEqual(await getJson(details, '/details/7'), {
      status: 200,
      body: {
        id: 7, author: 'William Shakespeare', year: 1595, type: 'paperback', pages: 200, publisher: 'PublisherA', language: 'English',
        'ISBN-10': '1234567890', 'ISBN-13': '123-1234567890',
      },
    });
    assert.deepEqual(await getJson(details, '/details/seven'), { status: 400, body: { error: 'please provide numeric product ID' } });
    assert.equal((await getJson(details, '/books/0')).status, 404);
    assert.deepEqual(await getJson(details, '/health'), { status: 200, body: { status: 'Details is healthy' } });
    const post = await fetch(`http://127.0.0.1:${details}/details/0`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
  });

  it('ratings gives Reviewer1 five stars and Reviewer2 four', async () => {
    assert.deepEqual(await getJson(ratings, '/ratings/0'), { status: 200, body: { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } } });
    assert.deepEqual(await getJson(ratings, '/ratings/-1'), { status: 400, body: { error: 'please provide numeric product ID' } });
    assert.deepEqual(await getJson(ratings, '/health'), { status: 200, body: { status: 'Ratings is healthy' } });
  });

  it('reviews v1 shows no stars and never calls ratings; v2 shows black stars, v3 red, both from ratings', async () => {
    const before = router.seen.length;
    const v1 = (await getJson(reviews.get('v1')!, '/reviews/0')).body as ProductReviews;
    assert.equal(router.seen.length, before, 'v1 made no call');
    assert.equal(v1.podname, 'reviews-v1');
    assert.deepEqual(v1.reviews.map((r) => [r.reviewer, r.rating]), [['Reviewer1', undefined], ['Reviewer2', undefined]]);
    assert.match(v1.reviews[0]!.text, /extremely entertaining play by Shakespeare/);

    for (const [version, color] of [['v2', 'black'], ['v3', 'red']] as const) {
      const seenBefore = router.seen.length;
      const body = (await getJson(reviews.get(version)!, '/reviews/0')).body as ProductReviews;
      assert.equal(body.podname, `reviews-${version}`);
      assert.deepEqual(body.reviews.map((r) => [r.reviewer, r.rating]), [['Reviewer1', { stars: 5, color }], ['Reviewer2', { stars: 4, color }]]);
      assert.deepEqual(router.seen.slice(seenBefore).map((f) => `${f.host}${f.path}`), ['ratings:9080/ratings/0'], `${version} called ratings by name through the sidecar`);
    }
    assert.deepEqual(await getJson(reviews.get('v1')!, '/health'), { status: 200, body: { status: 'Reviews is healthy' } });
  });

  it('reviews v2 and v3 say ratings is unavailable when it cannot answer, and still answer 200', async () => {
    ports.set('ratings', undefined);
    try {
      const body = (await getJson(reviews.get('v3')!, '/reviews/0')).body as ProductReviews;
      assert.deepEqual(body.reviews.map((r) => r.rating), [{ error: RATINGS_UNAVAILABLE }, { error: RATINGS_UNAVAILABLE }]);
    } finally {
      ports.set('ratings', ratings);
    }
  });

  it('reviews v2 and v3 refuse to start without the ratings URL', () => {
    assert.throws(() => reviewsHandler({ version: 'v2', instance: 'reviews-v2' }), /needs the ratings service/);
  });

  it('productpage renders details and reviews, the stars in the serving version\'s colour', async () => {
    for (const [version, color] of [['v2', 'black'], ['v3', 'red']] as const) {
      ports.set('reviews', reviews.get(version));
      const page = await get(productpage, '/productpage');
      assert.equal(page.status, 200);
      assert.match(page.type, /^text\/html/);
      assert.match(page.text, /<h3>The Comedy of Errors<\/h3>/);
      assert.match(page.text, /<dt>Publisher:<\/dt><dd>PublisherA<\/dd>/);
      assert.match(page.text, /<dt>ISBN-13:<\/dt><dd>123-1234567890<\/dd>/);
      assert.match(page.text, /Absolutely fun and entertaining/);
      assert.match(page.text, new RegExp(`style="color:${color}" data-stars="5">★★★★★<`));
      assert.match(page.text, new RegExp(`style="color:${color}" data-stars="4">★★★★☆<`));
      assert.match(page.text, new RegExp(`class="served-by">reviews-${version}<`));
    }
    ports.set('reviews', reviews.get('v1'));
    const v1 = await get(productpage, '/productpage');
    assert.match(v1.text, /class="served-by">reviews-v1</);
    assert.doesNotMatch(v1.text, /class="stars"/);
    ports.set('reviews', reviews.get('v2'));
  });

  it('productpage copies the request id and trace context to details, reviews and (through reviews) ratings', async () => {
    const before = router.seen.length;
    const trace = {
      'x-request-id': 'a1b2c3d4-0000-4000-8000-000000000001',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'x-b3-traceid': '4bf92f3577b34da6a3ce929d0e0e4736',
      'end-user': 'jason',
    };
    const page = await get(productpage, '/productpage', { ...trace, cookie: 'session=secret' });
    assert.equal(page.status, 200);
    const calls = router.seen.slice(before);
    assert.deepEqual(calls.map((c) => c.host).sort(), ['details:9080', 'ratings:9080', 'reviews:9080']);
    for (const call of calls) {
      for (const [name, value] of Object.entries(trace)) assert.equal(call.headers[name], value, `${call.host} got ${name}`);
      assert.equal(call.headers['cookie'], undefined, `${call.host} did not get the cookie`);
      for (const name of Object.keys(call.headers)) {
        assert.ok(['host', 'accept', 'connection', ...PROPAGATED_HEADERS].includes(name as (typeof PROPAGATED_HEADERS)[number]), `${call.host} got only propagated headers, not ${name}`);
      }
    }
  });

  it('productpage still answers 200 when details or reviews are down, saying which part is unavailable', async () => {
    ports.set('details', undefined);
    try {
      const page = await get(productpage, '/productpage');
      assert.equal(page.status, 200);
      assert.ok(page.text.includes(DETAILS_UNAVAILABLE));
      assert.ok(!page.text.includes(REVIEWS_UNAVAILABLE));
      assert.match(page.text, /class="served-by">reviews-v2</);
      // The sidecar's own answer (no route: 404 without a JSON body) is not details' answer: 503.
      assert.deepEqual(await getJson(productpage, '/api/v1/products/0'), { status: 503, body: { error: DETAILS_UNAVAILABLE } });
    } finally {
      ports.set('details', details);
    }
    ports.set('reviews', undefined);
    try {
      const page = await get(productpage, '/productpage');
      assert.ok(page.text.includes(REVIEWS_UNAVAILABLE));
      assert.match(page.text, /<dd>PublisherA<\/dd>/);
    } finally {
      ports.set('reviews', reviews.get('v2'));
    }
  });

  it('productpage\'s JSON API lists the product and passes through details, reviews and ratings', async () => {
    const products = (await getJson(productpage, '/api/v1/products')).body as Array<{ id: number; title: string; descriptionHtml: string }>;
    assert.deepEqual(products.map(({ id, title }) => ({ id, title })), [{ id: 0, title: 'The Comedy of Errors' }]);
    assert.match(products[0]!.descriptionHtml, /William Shakespeare's/);
    assert.deepEqual((await getJson(productpage, '/api/v1/products/3')).body, (await getJson(details, '/details/3')).body);
    assert.equal(((await getJson(productpage, '/api/v1/products/0/reviews')).body as ProductReviews).podname, 'reviews-v2');
    assert.deepEqual((await getJson(productpage, '/api/v1/products/0/ratings')).body, { id: 0, ratings: { Reviewer1: 5, Reviewer2: 4 } });
    assert.deepEqual(await getJson(productpage, '/api/v1/products/zero'), { status: 400, body: { error: 'please provide numeric product ID' } });
    assert.equal((await getJson(productpage, '/api/v1/products/0/authors')).status, 404);
    assert.deepEqual(await getJson(productpage, '/health'), { status: 200, body: { status: 'Productpage is healthy' } });
    assert.match((await get(productpage, '/')).text, /href="\/productpage"/);
  });
});

describe('bookinfo serve.js', () => {
  it('runs a service as a process, and SIGTERM stops it with exit code 0', async () => {
    const child = spawn(process.execPath, [SERVE, 'ratings', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(line.toString())?.[1]);
      assert.deepEqual(await getJson(port, '/ratings/1'), { status: 200, body: { id: 1, ratings: { Reviewer1: 5, Reviewer2: 4 } } });
    } finally {
      child.kill('SIGTERM');
    }
    assert.deepEqual(await once(child, 'exit'), [0, null]);
  });

  it('rejects a bad invocation with the reason and exit code 2', async () => {
    for (const [args, reason] of [
      [['catalog'], /unknown service: catalog/],
      [['reviews', '--version', 'v4'], /--version must be one of v1, v2, v3/],
      [['productpage', '--details', 'not a url'], /--details: not a URL/],
    ] as const) {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        execFile(process.execPath, [SERVE, ...args, '--port', '0'], (err, _stdout, stderr) => resolve({ code: err === null ? 0 : (err.code as number), stderr }));
      });
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, reason);
    }
  });
});
