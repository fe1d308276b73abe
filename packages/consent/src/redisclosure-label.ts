/**
 * The DS4P refrain on what a partner is shown (DESIGN.md, "Coordinated updates"): every resource disclosed to a
 * recipient under consent, a released coordinated update among them, carries `NORDSCLCD` ("no redisclosure without
 * consent directive") in `meta.security` beside its confidentiality and sensitivity labels. Stamped on the response's
 * copy where the disclosure is recorded (disclosure-audit.ts), so every read path gets it and nothing stored changes.
 */
import type { Resource } from '@medplum/fhirtypes';
import { NO_REDISCLOSURE_LABEL } from './coordinated-update-terms';

/** Adds the NORDSCLCD label to `resource.meta.security` (in place, once). */
export function markAgainstRedisclosure(resource: Resource): void {
  const security = resource.meta?.security ?? [];
  if (security.some((label) => label.system === NO_REDISCLOSURE_LABEL.system && label.code === NO_REDISCLOSURE_LABEL.code)) {
    return;
  }
  resource.meta = { ...resource.meta, security: [...security, { ...NO_REDISCLOSURE_LABEL }] };
}
