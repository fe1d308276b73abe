/**
 * Purpose of use: why the caller wants the data (HL7 v3-ActReason). Taken from the `X-Purpose-Of-Use` header, TREAT
 * when absent; consents permit disclosure per purpose.
 */
import { badRequest, OperationOutcomeError } from '@carecircle/fhir';
import { DEFAULT_PURPOSE } from '@carecircle/consent';

/** The v3-ActReason purposes of use a caller may state. */
export const PURPOSES_OF_USE: ReadonlySet<string> = new Set([
  'TREAT',
  'ETREAT',
  'CAREMGT',
  'HPAYMT',
  'HOPERAT',
  'PATRQT',
  'PUBHLTH',
  'HRESCH',
]);

/** The purpose stated in `header`, TREAT when absent; 400 for anything not in {@link PURPOSES_OF_USE}. */
export function parsePurposeOfUse(header: string | undefined): string {
  if (header === undefined || header.trim() === '') {
    return DEFAULT_PURPOSE;
  }
  const code = header.trim();
  if (!PURPOSES_OF_USE.has(code)) {
    throw new OperationOutcomeError(badRequest(`X-Purpose-Of-Use must be one of ${[...PURPOSES_OF_USE].join(', ')}`));
  }
  return code;
}
