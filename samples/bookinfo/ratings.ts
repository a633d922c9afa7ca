/** ratings: the stars each reviewer gave (`GET /ratings/<id>`), as BookInfo's ratings v1 answers them. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { productIdFrom, sendJson } from './http.js';

export interface ProductRatings {
  id: number;
  ratings: Record<string, number>;
}

export function productRatings(id: number): ProductRatings {
  return { id, ratings: { Reviewer1: 5, Reviewer2: 4 } };
}

export function ratingsHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://ratings').pathname;
    if (req.method !== 'GET') return sendJson(res, 405, { error: `${req.method} is not allowed` });
    if (path === '/health') return sendJson(res, 200, { status: 'Ratings is healthy' });
    if (path.startsWith('/ratings/')) {
      const id = productIdFrom(path, '/ratings/');
      return id === undefined ? sendJson(res, 400, { error: 'please provide numeric product ID' }) : sendJson(res, 200, productRatings(id));
    }
    sendJson(res, 404, { error: `no such path: ${path}` });
  };
}
