/**
 * CORS for the configured origins only (CORS_ORIGINS); any other origin gets no CORS headers at all.
 */
import type { NextFunction, Request, Response } from 'express';

/** Middleware factory: answers preflights and marks responses for allowed origins. */
export function cors(allowedOrigins: readonly string[]) {
  const allowed = new Set(allowedOrigins);
  return function applyCors(req: Request, res: Response, next: NextFunction): void {
    const origin = req.get('origin');
    if (!origin || !allowed.has(origin)) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Expose-Headers', 'Location, ETag, Last-Modified, X-Request-Id');
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, If-Match, If-None-Exist, If-None-Match, Prefer, X-Request-Id');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
