/**
 * Writing FHIR responses: `application/fhir+json` bodies, and the version headers (ETag, Last-Modified, Location).
 */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Response } from 'express';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** Sends `body` as FHIR JSON with `status`. */
export function sendFhir(res: Response, status: number, body: Resource | undefined): void {
  res.status(status);
  if (body === undefined) {
    res.end();
    return;
  }
  res.type(FHIR_JSON).send(JSON.stringify(body));
}

/** Sends an OperationOutcome. */
export function sendOperationOutcome(res: Response, status: number, outcome: OperationOutcome): void {
  sendFhir(res, status, outcome);
}
