/**
 * Authentication for the FHIR API: the bearer token becomes a caller, the caller an access policy, the policy a
 * repository, and all three the request context every handler below runs in.
 */
import { authenticateBearer, createAccessPolicy, runWithRequestContext } from '@carecircle/auth';
import { createRepository } from '@carecircle/store';
import type { NextFunction, Request, Response } from 'express';
import type { AppServices } from '../app-services';
import { getRequestId } from '../http/request-id';

/** Middleware factory: rejects requests without a valid bearer token (401) and runs the rest in the caller's context. */
export function authenticate(services: AppServices) {
  return async function authenticateRequest(req: Request, res: Response, next: NextFunction): Promise<void> {
    const caller = await authenticateBearer(services, req.get('authorization'));
    res.locals.caller = caller;
    const repository = createRepository(services.db, createAccessPolicy(caller));
    runWithRequestContext({ requestId: getRequestId(res), caller, repository }, next);
  };
}
