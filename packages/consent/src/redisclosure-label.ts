/**
 * The DS4P refrain on what a partner is shown (DESIGN.md, "Coordinated updates"): every resource disclosed to a
 * recipient under consent, a released coordinated update among them, carries `NORDSCLCD` ("no redisclosure without
 * consent directive") in `meta.security` beside its confidentiality and sensitivity labels. Stamped on the response's
 * copy where the disclosure is recorded (disclosure-audit.ts), so every read path gets it and nothing stored changes.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { NO_REDISCLOSURE_LABEL } from './coordinated-update-terms';

/** Adds the NORDSCLCD label to `resource.meta.security` (in place, once). */
export function markAgainstRedisclosure(resource: Resource): void {
  if (!isMarked(resource)) {
    resource.meta = { ...resource.meta, security: [...(resource.meta?.security ?? []), { ...NO_REDISCLOSURE_LABEL }] };
  }
}

/**
 * Marks `bundle` (a searchset, history or document Bundle, built after its entries were handed out) with NORDSCLCD in
 * its own `meta.security` when any entry carries it, and so a document's Composition too: the answer as a whole holds
 * what may not be disclosed further. Returns `bundle`.
 */
export function markBundleAgainstRedisclosure(bundle: Bundle): Bundle {
  const entries = (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
  if (!entries.some(isMarked)) {
    return bundle;
  }
  markAgainstRedisclosure(bundle);
  const first = entries[0];
  if (bundle.type === 'document' && first?.resourceType === 'Composition') {
    markAgainstRedisclosure(first);
  }
  return bundle;
}

function isMarked(resource: Resource): boolean {
  return (resource.meta?.security ?? []).some((label) => label.system === NO_REDISCLOSURE_LABEL.system && label.code === NO_REDISCLOSURE_LABEL.code);
}
