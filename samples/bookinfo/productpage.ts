/**
 * productpage: the BookInfo front end. `/productpage` renders one HTML page from
 * details and reviews (called in parallel, each bounded by a timeout); a part
 * that fails is replaced by BookInfo's "currently unavailable" sentence, the
 * page itself still answers 200. `/api/v1/products[/<id>[/reviews|/ratings]]`
 * is the JSON API over the same calls.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BookDetails } from './details.js';
import { getJson, productIdFrom, propagatedHeaders, sendHtml, sendJson, type Upstream } from './http.js';
import type { ProductReviews, Review } from './reviews.js';

export interface ProductPageOptions {
  details: Upstream;
  reviews: Upstream;
  ratings: Upstream;
  /** Per call to details, reviews or ratings. */
  timeoutMs?: number;
  /** Told why a call failed (the page only says that it did). */
  onUpstreamError?: (err: Error) => void;
}

const PRODUCT = {
  id: 0,
  title: 'The Comedy of Errors',
  descriptionHtml:
    '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of ' +
    "<b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical comedies, with a major part " +
    'of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
};

export const DETAILS_UNAVAILABLE = 'Sorry, product details are currently unavailable for this book.';
export const REVIEWS_UNAVAILABLE = 'Sorry, product reviews are currently unavailable for this book.';
export const RATINGS_UNAVAILABLE = 'Sorry, product ratings are currently unavailable for this book.';

type Fetched<T> = { ok: true; body: T } | { ok: false; status: number };

export function productPageHandler(options: ProductPageOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? 3000;
  async function fetchFrom<T>(upstream: Upstream, path: string, req: IncomingMessage): Promise<Fetched<T>> {
    try {
      const res = await getJson(upstream, path, propagatedHeaders(req.headers), timeoutMs);
      if (res.status === 200) return { ok: true, body: res.body as T };
      options.onUpstreamError?.(new Error(`GET ${upstream.service.host}${path} answered ${res.status}`));
      return { ok: false, status: res.status };
    } catch (err) {
      options.onUpstreamError?.(err as Error);
      return { ok: false, status: 503 };
    }
  }
  const api = async <T>(res: ServerResponse, fetched: Promise<Fetched<T>>, unavailable: string): Promise<void> => {
    const result = await fetched;
    if (result.ok) sendJson(res, 200, result.body);
    else sendJson(res, result.status, { error: unavailable });
  };

  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://productpage').pathname;
    if (req.method !== 'GET') return sendJson(res, 405, { error: `${req.method} is not allowed` });
    if (path === '/health') return sendJson(res, 200, { status: 'Productpage is healthy' });
    if (path === '/') return sendHtml(res, 200, indexPage());
    if (path === '/productpage') {
      const [details, reviews] = await Promise.all([
        fetchFrom<BookDetails>(options.details, `/details/${PRODUCT.id}`, req),
        fetchFrom<ProductReviews>(options.reviews, `/reviews/${PRODUCT.id}`, req),
      ]);
      return sendHtml(res, 200, productPage(details.ok ? details.body : undefined, reviews.ok ? reviews.body : undefined));
    }
    if (path === '/api/v1/products') return sendJson(res, 200, [PRODUCT]);
    const match = /^\/api\/v1\/products\/([^/]+)(?:\/(reviews|ratings))?$/.exec(path);
    if (match === null) return sendJson(res, 404, { error: `no such path: ${path}` });
    const id = productIdFrom(match[1]!, '');
    if (id === undefined) return sendJson(res, 400, { error: 'please provide numeric product ID' });
    switch (match[2]) {
      case 'reviews':
        return api(res, fetchFrom(options.reviews, `/reviews/${id}`, req), REVIEWS_UNAVAILABLE);
      case 'ratings':
        return api(res, fetchFrom(options.ratings, `/ratings/${id}`, req), RATINGS_UNAVAILABLE);
      default:
        return api(res, fetchFrom(options.details, `/details/${id}`, req), DETAILS_UNAVAILABLE);
    }
  };
}

function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `body{font-family:sans-serif;margin:0}nav{background:#333;color:#fff;padding:.6em 1em}
main{display:flex;gap:3em;padding:1em 2em}section{flex:1}blockquote{border-left:4px solid #ddd;margin:1em 0;padding:.2em 1em}
.stars{font-size:1.3em}dt{font-weight:bold}`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body}\n</body></html>\n`;
}

function indexPage(): string {
  return page('Simple Bookstore App', '<nav>BookInfo Sample</nav>\n<main><section><h3>Hello! This is a simple bookstore application consisting of four services.</h3>\n<p><a href="/productpage">Visit the product page</a> or the <a href="/api/v1/products">JSON API</a>.</p></section></main>');
}

function productPage(details: BookDetails | undefined, reviews: ProductReviews | undefined): string {
  return page(
    'Simple Bookstore App',
    `<nav>BookInfo Sample</nav>
<main><section><h3>${escapeHtml(PRODUCT.title)}</h3><p>Summary: ${PRODUCT.descriptionHtml}</p></section></main>
<main>
<section class="details"><h4>Book Details</h4>${details === undefined ? `<p class="error">${DETAILS_UNAVAILABLE}</p>` : detailsHtml(details)}</section>
<section class="reviews"><h4>Book Reviews</h4>${reviews === undefined ? `<p class="error">${REVIEWS_UNAVAILABLE}</p>` : reviewsHtml(reviews)}</section>
</main>`,
  );
}

function detailsHtml(details: BookDetails): string {
  const rows: Array<[string, string | number]> = [
    ['Type:', details.type], ['Pages:', details.pages], ['Publisher:', details.publisher], ['Language:', details.language],
    ['ISBN-10:', details['ISBN-10']], ['ISBN-13:', details['ISBN-13']],
  ];
  return `<dl>${rows.map(([term, value]) => `<dt>${term}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`;
}

function reviewsHtml(reviews: ProductReviews): string {
  const items = reviews.reviews.map((review) => `<blockquote><p>${escapeHtml(review.text)}</p><small>${escapeHtml(review.reviewer)}</small>${ratingHtml(review)}</blockquote>`);
  return `${items.join('\n')}\n<dl><dt>Reviews served by:</dt><dd class="served-by">${escapeHtml(reviews.podname)}</dd></dl>`;
}

/** Filled stars in the version's colour, then empty ones up to five; nothing for reviews v1. */
function ratingHtml(review: Review): string {
  const rating = review.rating;
  if (rating === undefined) return '';
  if ('error' in rating) return `<p class="error">${escapeHtml(rating.error)}</p>`;
  const stars = Math.max(0, Math.min(5, rating.stars));
  return `<div class="stars" style="color:${escapeHtml(rating.color)}" data-stars="${stars}">${'★'.repeat(stars)}${'☆'.repeat(5 - stars)}</div>`;
}
