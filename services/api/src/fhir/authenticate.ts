/**
 * Authentication for the FHIR API: the bearer token becomes a caller, the caller (with the stated purpose of use) a
 * repository bound to what that caller may see, and both the request context every handler below runs in.
 */
import { authenticateBearer, runWithRequestContext } from '@carecircle/auth';
import type { NextFunction, Request, Response } from 'express';
import type { AppServices } from '../app-services';
import { accessSettingsFrom, createCallerRepository } from '@carecircle/access';
import { getRequestId } from '../http/request-id';
import { parsePurposeOfUse } from './purpose-of-use';

/** Middleware factory: rejects requests without a valid bearer token (401) and runs the rest in the caller's context. */
export function authenticate(services: AppServices) {
  return async function authenticateRequest(req: Request, res: Response, next: NextFunction): Promise<void> {
    const caller = await authenticateBearer(services, req.get('authorization'));
    const purpose = parsePurposeOfUse(req.get('x-purpose-of-use'));
    res.locals.caller = caller;
    const requestId = getRequestId(res);
    const repository = await createCallerRepository(services.db, accessSettingsFrom(services.config), caller, purpose, requestId);
    runWithRequestContext({ requestId, caller, repository, purpose }, next);
  };
}
