/**
 * CORS for the configured origins only (CORS_ORIGINS); any other origin gets no CORS headers at all. When CORS is
 * configured every response says `Vary: Origin`, allowed origin or not, so a shared cache never hands one origin's
 * answer (with or without Access-Control-Allow-Origin) to another.
 */
import type { NextFunction, Request, Response } from 'express';

/** Request headers a browser app may send: auth, FHIR conditional and preference headers, purpose of use. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Accept',
  'If-Match',
  'If-None-Exist',
  'If-None-Match',
  'If-Modified-Since',
  'Prefer',
  'X-Purpose-Of-Use',
  'X-Request-Id',
] as const;

/** Response headers a browser app may read. */
export const CORS_EXPOSED_HEADERS = ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'Retry-After', 'X-Request-Id'] as const;

/** Middleware factory: answers preflights and marks responses for allowed origins. */
export function cors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return function applyCors(req: Request, res: Response, next: NextFunction): void {
    if (allowed.size === 0) {
      next();
      return;
    }
    res.vary('Origin');
    const origin = req.get('origin');
    if (!origin || !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS.join(', '));
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
      res.setHeader('Access-Control-Allow-Headers', CORS_ALLOWED_HEADERS.join(', '));
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
