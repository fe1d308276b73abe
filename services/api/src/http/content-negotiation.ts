/**
 * Content negotiation for the FHIR API: we answer in FHIR JSON only, so a request whose Accept header admits neither
 * FHIR JSON nor JSON (`Accept: application/fhir+xml`) gets a 406 OperationOutcome up front instead of JSON it did not
 * ask for. No Accept header, or a wildcard, is fine.
 */
import { notAcceptable, OperationOutcomeError } from '@carecircle/fhir';
import type { NextFunction, Request, Response } from 'express';

const ANSWERED_TYPES = ['application/fhir+json', 'application/json', 'application/json+fhir'];

/** Middleware factory: 406 unless the caller accepts one of the JSON types we answer with. */
export function acceptFhirJson() {
  return function requireJsonAccepted(req: Request, _res: Response, next: NextFunction): void {
    const accept = req.get('accept');
    if (accept === undefined || accept.trim() === '' || req.accepts(ANSWERED_TYPES) !== false) {
      next();
      return;
    }
    next(new OperationOutcomeError(notAcceptable()));
  };
}
