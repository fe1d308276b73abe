/**
 * Authentication for the FHIR API: the bearer token becomes a caller, the caller (with its purpose of use) a
 * repository bound to what that caller may see, and both the request context every handler below runs in.
 *
 * Purpose of use: the `X-Purpose-Of-Use` header when present (a supported v3-ActReason code, 400 otherwise), which
 * must be one of the purposes the token was issued for when it names any (403 otherwise); without the header, the
 * token's first purpose; without either, TREAT.
 */
import { authenticateBearer, resolvePurposeOfUse, runWithRequestContext } from '@carecircle/auth';
import type { NextFunction, Request, Response } from 'express';
import type { AppServices } from '../app-services';
import { accessSettingsFrom, createCallerRepository } from '@carecircle/access';
import { getRequestId } from '../http/request-id';
import { parsePurposeOfUse } from './purpose-of-use';

/** Middleware factory: rejects requests without a valid bearer token (401) and runs the rest in the caller's context. */
export function authenticate(services: AppServices) {
  return async function authenticateRequest(req: Request, res: Response, next: NextFunction): Promise<void> {
    const caller = await authenticateBearer(services, req.get('authorization'));
    res.locals.caller = caller;
    const header = req.get('x-purpose-of-use');
    const stated = header === undefined || header.trim() === '' ? undefined : parsePurposeOfUse(header);
    const purpose = resolvePurposeOfUse(caller, stated);
    const requestId = getRequestId(res);
    const connection = { clientAddress: req.ip, serverBase: services.config.fhirBaseUrl, search: searchOf(req), tokenId: caller.kind === 'admin' ? undefined : caller.tokenId };
    const repository = await createCallerRepository(services.db, accessSettingsFrom(services.config), caller, purpose, requestId, connection);
    runWithRequestContext({ requestId, caller, repository, purpose }, next);
  };
}

/**
 * The search a GET type-level search request makes (`Observation?code=...`, as sent), which its disclosure AuditEvents
 * record (BALP's query entity); undefined for any other request, whose searches (a batch's, a conditional write's) are
 * not the request's own URL.
 */
function searchOf(req: Request): string | undefined {
  const type = req.method === 'GET' ? /^\/([A-Z][A-Za-z]{1,63})\/?$/.exec(req.path)?.[1] : undefined;
  if (!type) {
    return undefined;
  }
  const queryAt = req.originalUrl.indexOf('?');
  return queryAt < 0 ? type : `${type}${req.originalUrl.slice(queryAt)}`;
}

