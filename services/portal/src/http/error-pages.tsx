/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The portal's answers to what went wrong: an accessible page in the reader's language with the right status (404
 * for anything not found or not the client's, 403 for an expired form, 503 with Retry-After when the API or Redis
 * is busy, 403 with a way to the right area for a client in the practice's area or a practitioner in the client's),
 * and a 500 page for faults, logged by request id without PHI. A lapsed sign-in goes to its area's start page.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@carecircle/log';
import { MessagePage } from '../views/components';
import { sendPage } from '../views/render';
import { FhirRequestFailed } from '../fhir-api';
import { areaHome } from '../views/view-context';
import { areaOf, viewOf, type PageDeps } from './page-context';
import { PortalError, SignInRequired, type ErrorPageKind } from './portal-error';

const HEADINGS = {
  notFound: ['notFoundHeading', 'notFoundBody'],
  badRequest: ['badRequestHeading', 'badRequestBody'],
  sessionExpired: ['sessionExpiredHeading', 'sessionExpiredBody'],
  unavailable: ['unavailableHeading', 'unavailableBody'],
  error: ['errorHeading', 'errorBody'],
  clientsOnly: ['clientsOnlyHeading', 'clientsOnlyBody'],
  practitionersOnly: ['practitionersOnlyHeading', 'practitionersOnlyBody'],
} as const satisfies Record<ErrorPageKind, readonly [string, string]>;

/** 404 for any portal path no route answered. */
export function notFoundPage(deps: PageDeps): RequestHandler {
  return function portalNotFound(req, res) {
    sendError(req, res, deps, 404, 'notFound');
  };
}

/** Turns what a handler threw into the page that explains it. */
export function errorPages(deps: PageDeps, logger: Logger): ErrorRequestHandler {
  return function portalErrorPage(err: unknown, req, res, next) {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof SignInRequired) {
      if (req.session?.patient || req.session?.practitioner) {
        delete req.session.patient;
        delete req.session.practitioner;
        delete req.session.tokens;
      }
      res.redirect(303, areaHome(areaOf(req)));
      return;
    }
    if (err instanceof PortalError) {
      if (err.retryAfter !== undefined) {
        res.set('Retry-After', String(err.retryAfter));
      }
      sendError(req, res, deps, err.status, err.kind);
      return;
    }
    if (err instanceof FhirRequestFailed && (err.status === 404 || err.status === 410 || err.status === 403)) {
      sendError(req, res, deps, 404, 'notFound');
      return;
    }
    const status = (err as { status?: unknown; type?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // Body parser refusals (too large, malformed), a missing asset: the client's own doing.
      sendError(req, res, deps, status, status === 404 ? 'notFound' : 'badRequest');
      return;
    }
    if (isRedisDown(err)) {
      res.set('Retry-After', '5');
      sendError(req, res, deps, 503, 'unavailable');
      return;
    }
    // Class and stack frames only, as the API logs its faults: a message can quote data (a parse error quotes its input).
    const fault = err instanceof Error ? { name: err.name, stack: err.stack?.split('\n').slice(1, 8).join('\n') } : { name: typeof err };
    logger.error({ err: fault, requestId: res.get('x-request-id') }, 'portal page failed');
    sendError(req, res, deps, 500, 'error');
  };
}

function sendError(req: Parameters<RequestHandler>[0], res: Parameters<RequestHandler>[1], deps: PageDeps, status: number, kind: ErrorPageKind): void {
  const view = viewOf(req, deps);
  const [heading, body] = HEADINGS[kind];
  sendPage(
    res,
    <MessagePage view={view} heading={view.t[heading]}>
      <p>{view.t[body]}</p>
      <p>
        {kind === 'clientsOnly' ? (
          <a href={areaHome('practice')}>{view.t.goToPracticeArea}</a>
        ) : kind === 'practitionersOnly' ? (
          <a href={areaHome('client')}>{view.t.goToClientArea}</a>
        ) : (
          <a href={areaHome(view.area)}>{view.t.backToStart}</a>
        )}
      </p>
    </MessagePage>,
    status,
  );
}

/** Redis (the sessions) not answering: node-redis's errors for a closed, offline or dropped connection. */
const REDIS_DOWN_ERRORS = new Set([
  'ClientClosedError',
  'ClientOfflineError',
  'ConnectionTimeoutError',
  'SocketClosedUnexpectedlyError',
  'SocketTimeoutError',
  'ReconnectStrategyError',
]);

function isRedisDown(err: unknown): boolean {
  const name = (err as { name?: unknown; constructor?: { name?: unknown } }).constructor?.name;
  const message = (err as { message?: unknown }).message;
  return (
    (typeof name === 'string' && REDIS_DOWN_ERRORS.has(name)) ||
    (typeof message === 'string' && /client is (closed|offline)|ECONNREFUSED|Socket closed unexpectedly/i.test(message))
  );
}
