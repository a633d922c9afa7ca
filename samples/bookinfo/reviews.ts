/**
 * reviews: two reviews of the book (`GET /reviews/<id>`), in three versions as
 * in BookInfo: v1 shows no stars and never calls ratings; v2 and v3 fetch the
 * stars from ratings and colour them black (v2) or red (v3). When ratings
 * cannot answer, each review carries an error instead of stars.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getJson, productIdFrom, propagatedHeaders, sendJson, type Upstream } from './http.js';

export const REVIEWS_VERSIONS = ['v1', 'v2', 'v3'] as const;
export type ReviewsVersion = (typeof REVIEWS_VERSIONS)[number];

/** The star colour of a version; v1 has none (it does not show ratings). */
export const STAR_COLORS: Record<ReviewsVersion, 'black' | 'red' | undefined> = { v1: undefined, v2: 'black', v3: 'red' };

export const RATINGS_UNAVAILABLE = 'Ratings service is currently unavailable';

const REVIEWS = [
  { reviewer: 'Reviewer1', text: 'An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!' },
  { reviewer: 'Reviewer2', text: 'Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by Shakespeare.' },
] as const;

export type Rating = { stars: number; color: 'black' | 'red' } | { error: string };

export interface Review {
  reviewer: string;
  text: string;
  rating?: Rating;
}

export interface ProductReviews {
  id: number;
  /** The instance that answered (BookInfo shows it as "Reviews served by"). */
  podname: string;
  clustername: string;
  reviews: Review[];
}

export interface ReviewsOptions {
  version: ReviewsVersion;
  /** This instance's name, e.g. `reviews-v2`. */
  instance: string;
  /** Where ratings is; required by v2 and v3. */
  ratings?: Upstream;
  ratingsTimeoutMs?: number;
  /** Told why a call to ratings failed (the answer only says that it did). */
  onUpstreamError?: (err: Error) => void;
}

export function reviewsHandler(options: ReviewsOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const color = STAR_COLORS[options.version];
  if (color !== undefined && options.ratings === undefined) throw new Error(`reviews ${options.version} needs the ratings service's URL`);
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://reviews').pathname;
    if (req.method !== 'GET') return sendJson(res, 405, { error: `${req.method} is not allowed` });
    if (path === '/health') return sendJson(res, 200, { status: 'Reviews is healthy' });
    if (!path.startsWith('/reviews/')) return sendJson(res, 404, { error: `no such path: ${path}` });
    const id = productIdFrom(path, '/reviews/');
    if (id === undefined) return sendJson(res, 400, { error: 'please provide numeric product ID' });
    const stars = color === undefined ? undefined : await fetchStars(options, id, req);
    const reviews = REVIEWS.map(({ reviewer, text }): Review => {
      if (color === undefined) return { reviewer, text };
      const given = stars?.[reviewer];
      return { reviewer, text, rating: given === undefined ? { error: RATINGS_UNAVAILABLE } : { stars: given, color } };
    });
    sendJson(res, 200, { id, podname: options.instance, clustername: 'null', reviews } satisfies ProductReviews);
  };
}

/** Reviewer -> stars, or undefined when ratings failed (the page then says so). */
async function fetchStars(options: ReviewsOptions, id: number, req: IncomingMessage): Promise<Record<string, number> | undefined> {
  try {
    const res = await getJson(options.ratings!, `/ratings/${id}`, propagatedHeaders(req.headers), options.ratingsTimeoutMs ?? 2500);
    if (res.status === 200) return (res.body as { ratings?: Record<string, number> }).ratings;
    options.onUpstreamError?.(new Error(`ratings answered ${res.status}`));
  } catch (err) {
    options.onUpstreamError?.(err as Error);
  }
  return undefined;
}
