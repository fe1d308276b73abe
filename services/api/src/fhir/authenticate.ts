/**
 * Authentication for the FHIR API: the bearer token becomes a caller, the caller an access policy, the policy a
 * repository, and all three the request context every handler below runs in.
 */
import { isAdminToken, runWithRequestContext, type Caller } from '@carecircle/auth';
import { OperationOutcomeError, unauthorized } from '@carecircle/fhir';
import { createRepository, fullAccess } from '@carecircle/store';
import type { NextFunction, Request, Response } from 'express';
import type { AppServices } from '../app-services';
import { getRequestId } from '../http/request-id';

/** Middleware factory: rejects requests without a valid bearer token (401) and runs the rest in the caller's context. */
export function authenticate(services: AppServices) {
  return async function authenticateRequest(req: Request, res: Response, next: NextFunction): Promise<void> {
    const caller = resolveCaller(services, req.get('authorization'));
    res.locals.caller = caller;
    const repository = createRepository(services.db, fullAccess);
    runWithRequestContext({ requestId: getRequestId(res), caller, repository }, next);
  };
}

function resolveCaller(services: AppServices, header: string | undefined): Caller {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) {
    throw new OperationOutcomeError(unauthorized);
  }
  if (isAdminToken(match[1], services.config.adminToken)) {
    return { kind: 'admin' };
  }
  throw new OperationOutcomeError(unauthorized);
}
