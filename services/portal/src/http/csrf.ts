/**
 * Cross-site request forgery: every form carries the session's token (a synchronizer token, OWASP's first choice),
 * and every POST must send it back, from a page of ours (the Origin, when the browser sends one, is our own). A
 * missing or wrong token answers the "this form has expired" page with 403, and changes nothing.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { PortalError } from './portal-error';

/** The session's form token, made on first use. */
export function csrfTokenOf(req: Request): string {
  if (!req.session.csrfToken) {
    req.session.csrfToken = randomBytes(32).toString('base64url');
  }
  return req.session.csrfToken;
}

/** Refuses unsafe requests without the session's token or from another origin. */
export function verifyCsrf(publicOrigin: string): RequestHandler {
  return function checkCsrf(req, _res, next) {
    if (req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    const origin = req.get('origin');
    if (origin !== undefined && origin !== publicOrigin) {
      throw new PortalError(403, 'sessionExpired');
    }
    const body: unknown = req.body;
    const sent = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).csrf_token : undefined;
    const expected = req.session.csrfToken;
    if (typeof sent !== 'string' || !expected || !sameToken(sent, expected)) {
      throw new PortalError(403, 'sessionExpired');
    }
    next();
  };
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
