/**
 * The headers of every portal response (helmet, with a Content-Security-Policy that allows only our own stylesheet
 * and script: no inline script or style, no framing, forms only to ourselves), and `Cache-Control: no-store` on pages,
 * so nothing about a client stays in a shared computer's cache. The assets are the only cacheable responses.
 */
import helmet from 'helmet';
import type { RequestHandler } from 'express';

export function pageHeaders(): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          fontSrc: ["'self'"],
          connectSrc: ["'self'"],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
        },
      },
      // same-origin, not no-referrer: a form posted from a no-referrer page says `Origin: null`, and csrf.ts checks
      // that the Origin is ours. Other origins (the "leave quickly" page among them) get no Referer.
      referrerPolicy: { policy: 'same-origin' },
      crossOriginEmbedderPolicy: false,
      // HSTS only makes sense, and is only sent by helmet usefully, over https; the API's edge sets it in production.
      strictTransportSecurity: false,
    }),
    function noStore(req, res, next) {
      if (!req.path.startsWith('/assets/')) {
        res.set('Cache-Control', 'no-store');
        res.set('Pragma', 'no-cache');
      }
      next();
    },
  ];
}
