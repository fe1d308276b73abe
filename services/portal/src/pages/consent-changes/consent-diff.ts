/**
 * What a change of a sharing consent changes, for the review before it is signed: which categories the provider will
 * now also see, no longer see and still see, and whether the purpose and the end changed (with what they were). Pure.
 */
import { SHAREABLE_CATEGORIES, type OfferedPurpose, type ShareableCategory } from '../../i18n/categories';
import type { Until } from './consent-answers';
import type { ConsentTerms } from './consent-resource';

export interface ConsentChange {
  readonly added: readonly ShareableCategory[];
  readonly removed: readonly ShareableCategory[];
  readonly kept: readonly ShareableCategory[];
  /** Present when the purpose changed. */
  readonly purpose: { readonly before: OfferedPurpose | undefined; readonly after: OfferedPurpose | undefined } | undefined;
  /** Present when the end changed. */
  readonly until: { readonly before: Until; readonly after: Until } | undefined;
  /** True when nothing changes at all (nothing to sign). */
  readonly unchanged: boolean;
  /** True when the provider will see less (fewer categories, or an earlier end). */
  readonly narrows: boolean;
}

/** The change from `before` to `after`, categories in the portal's order. */
export function describeChange(before: Omit<ConsentTerms, 'recipient'>, after: Omit<ConsentTerms, 'recipient'>): ConsentChange {
  const was = new Set(before.categories);
  const will = new Set(after.categories);
  const added = SHAREABLE_CATEGORIES.filter((c) => will.has(c) && !was.has(c));
  const removed = SHAREABLE_CATEGORIES.filter((c) => was.has(c) && !will.has(c));
  const kept = SHAREABLE_CATEGORIES.filter((c) => was.has(c) && will.has(c));
  const purpose = before.purpose === after.purpose ? undefined : { before: before.purpose, after: after.purpose };
  const until = sameUntil(before.until, after.until) ? undefined : { before: before.until, after: after.until };
  return {
    added,
    removed,
    kept,
    purpose,
    until,
    unchanged: added.length === 0 && removed.length === 0 && purpose === undefined && until === undefined,
    narrows: removed.length > 0 || (until !== undefined && endsEarlier(until.after, until.before)),
  };
}

function sameUntil(a: Until, b: Until): boolean {
  return a.kind === 'open' ? b.kind === 'open' : b.kind === 'date' && a.date === b.date;
}

/** True when `a` ends before `b` (an open end is the latest). */
function endsEarlier(a: Until, b: Until): boolean {
  if (a.kind === 'open') {
    return false;
  }
  return b.kind === 'open' || a.date < b.date;
}
