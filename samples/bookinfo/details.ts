/** details: the book's facts (`GET /details/<id>`), as BookInfo's details v1 answers them. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { productIdFrom, sendJson } from './http.js';

export interface BookDetails {
  id: number;
  author: string;
  year: number;
  type: string;
  pages: number;
  publisher: string;
  language: string;
  'ISBN-10': string;
  'ISBN-13': string;
}

export function bookDetails(id: number): BookDetails {
  return {
    id,
    author: 'William Shakespeare',
    year: 1595,
    type: 'paperback',
    pages: 200,
    publisher: 'PublisherA',
    language: 'English',
    'ISBN-10': '1234567890',
    'ISBN-13': '123-1234567890',
  };
}

export function detailsHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://details').pathname;
    if (req.method !== 'GET') return sendJson(res, 405, { error: `${req.method} is not allowed` });
    if (path === '/health') return sendJson(res, 200, { status: 'Details is healthy' });
    if (path.startsWith('/details/')) {
      const id = productIdFrom(path, '/details/');
      return id === undefined ? sendJson(res, 400, { error: 'please provide numeric product ID' }) : sendJson(res, 200, bookDetails(id));
    }
    sendJson(res, 404, { error: `no such path: ${path}` });
  };
}
