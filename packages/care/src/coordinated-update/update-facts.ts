/**
 * Reading a coordinated update (a Composition claiming the coordinated-update profile, DESIGN.md "Coordinated updates"):
 * its lifecycle state, the Composition status each state stands for, its recipient, and its sections by share
 * category with the references they hold. Pure functions over a resource that passed R4's structure check.
 */
import {
  COORDINATED_UPDATE_PROFILE,
  isShareCategory,
  SHARE_CATEGORY_SYSTEM,
  UPDATE_RECIPIENT_URL,
  UPDATE_SECTION_SYSTEM,
  UPDATE_STATE_URL,
  UPDATE_STATES,
  type ShareCategory,
  type UpdateState,
} from '@carecircle/consent';
import type { Composition, CompositionSection, Extension, Resource } from '@medplum/fhirtypes';

/** The Composition.status of each state: preliminary until released (final); declined and withdrawn are void. */
export const STATUS_OF_STATE: Readonly<Record<UpdateState, Composition['status']>> = {
  draft: 'preliminary',
  'awaiting-approval': 'preliminary',
  released: 'final',
  declined: 'entered-in-error',
  withdrawn: 'entered-in-error',
};

/** True when `resource` is a Composition claiming the coordinated-update profile. */
export function isCoordinatedUpdate(resource: Resource | undefined): resource is Composition {
  return resource?.resourceType === 'Composition' && (resource.meta?.profile ?? []).includes(COORDINATED_UPDATE_PROFILE);
}

/** The state an update's update-state extension names (undefined when it names none, or one we do not know). */
export function stateOf(update: Composition): UpdateState | undefined {
  const code = update.extension?.find((e) => e.url === UPDATE_STATE_URL)?.valueCode;
  return UPDATE_STATES.find((s) => s === code);
}

/** `update` in `state`: the extension set (once) and Composition.status to match. A new object. */
export function inState(update: Composition, state: UpdateState): Composition {
  const others = (update.extension ?? []).filter((e) => e.url !== UPDATE_STATE_URL);
  return { ...update, status: STATUS_OF_STATE[state], extension: [...others, { url: UPDATE_STATE_URL, valueCode: state }] };
}

/** The update-recipient extensions of `update`. */
export function recipientExtensions(update: Composition): Extension[] {
  return (update.extension ?? []).filter((e) => e.url === UPDATE_RECIPIENT_URL);
}

/** The reference the update is for (the one update-recipient), if it names one. */
export function recipientOf(update: Composition): string | undefined {
  return recipientExtensions(update)[0]?.valueReference?.reference;
}

/** The share category a section stands for, if its code names one. */
export function sectionCategory(section: CompositionSection): string | undefined {
  return section.code?.coding?.find((c) => c.system === SHARE_CATEGORY_SYSTEM)?.code;
}

/** The update-section code of a section (`letter`, `redisclosure-notice`), if it has one. */
export function sectionKind(section: CompositionSection): string | undefined {
  return section.code?.coding?.find((c) => c.system === UPDATE_SECTION_SYSTEM)?.code;
}

/** Every share category the update's sections stand for, each once. */
export function categoriesOf(update: Composition): ShareCategory[] {
  const codes = (update.section ?? []).flatMap((s) => {
    const code = sectionCategory(s);
    return isShareCategory(code) ? [code] : [];
  });
  return [...new Set(codes)];
}

/** The entries of the update's share-category sections, with the category of their section. */
export function entriesOf(update: Composition): { category: string; reference: string; index: number }[] {
  return (update.section ?? []).flatMap((section, index) => {
    const category = sectionCategory(section);
    return category === undefined ? [] : (section.entry ?? []).map((entry) => ({ category, reference: entry.reference ?? '', index }));
  });
}

/** A relative reference, maybe version-specific: `Type/id` or `Type/id/_history/v`. */
export interface EntryTarget {
  resourceType: string;
  id: string;
  versionId?: string;
}

const ENTRY_REFERENCE = /^([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/** The target of an entry's relative reference, with its version when it names one; undefined for anything else. */
export function parseEntryReference(reference: string | undefined): EntryTarget | undefined {
  const match = reference === undefined ? null : ENTRY_REFERENCE.exec(reference);
  if (!match?.[1] || !match[2]) {
    return undefined;
  }
  return { resourceType: match[1], id: match[2], ...(match[3] ? { versionId: match[3] } : {}) };
}
