/**
 * Purpose of use: why a caller wants the data (HL7 v3-ActReason), which consents permit per purpose. A token may
 * carry the purposes its client asked for at the token endpoint (`purpose_of_use`, space separated); a request may
 * state one in `X-Purpose-Of-Use`. The request's purpose is the stated one, which must be among the token's purposes
 * when the token names any; otherwise the token's first purpose; otherwise treatment.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Caller } from './caller';
import { OAuthError } from './oauth-error';

/** Treatment: the purpose of a request that states none and whose token names none (contract). */
export const DEFAULT_PURPOSE_OF_USE = 'TREAT';

/** The v3-ActReason codes this server supports, in the contract's order. */
export const SUPPORTED_PURPOSES_OF_USE = ['TREAT', 'ETREAT', 'CAREMGT', 'HPAYMT', 'HOPERAT', 'PATRQT', 'PUBHLTH', 'HRESCH'] as const;

const supported = new Set<string>(SUPPORTED_PURPOSES_OF_USE);

/** True for a supported v3-ActReason code. */
export function isSupportedPurposeOfUse(code: string): boolean {
  return supported.has(code);
}

/**
 * The purposes a token request asks for (`purpose_of_use`, space separated, de-duplicated in the order given);
 * undefined when absent or blank. Throws OAuthError `invalid_request` for any code not supported.
 */
export function parseRequestedPurposes(value: string | undefined): string[] | undefined {
  const codes = [...new Set((value ?? '').split(/\s+/).filter(Boolean))];
  if (codes.length === 0) {
    return undefined;
  }
  if (!codes.every(isSupportedPurposeOfUse)) {
    throw new OAuthError('invalid_request', `purpose_of_use must be space-separated codes among ${SUPPORTED_PURPOSES_OF_USE.join(', ')}`);
  }
  return codes;
}

/** The purposes a caller's token carries (none for the admin or a token issued without them). */
export function tokenPurposes(caller: Caller): readonly string[] | undefined {
  return caller.kind === 'admin' ? undefined : caller.purposes;
}

/**
 * The purpose one request acts for. `stated` is the request's own (already checked to be a supported code), if any.
 * Throws OperationOutcomeError 403 when the token names purposes and `stated` is not one of them.
 */
export function resolvePurposeOfUse(caller: Caller, stated: string | undefined): string {
  const purposes = tokenPurposes(caller);
  if (stated !== undefined) {
    if (purposes && !purposes.includes(stated)) {
      throw new OperationOutcomeError({
        resourceType: 'OperationOutcome',
        id: 'forbidden',
        issue: [{ severity: 'error', code: 'forbidden', details: { text: 'X-Purpose-Of-Use is not among the purposes this token was issued for' } }],
      });
    }
    return stated;
  }
  return purposes?.[0] ?? DEFAULT_PURPOSE_OF_USE;
}
