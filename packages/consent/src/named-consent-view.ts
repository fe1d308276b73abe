/**
 * What a recipient is shown of a Consent that names it, when it sees the Consent only because it is named (a partner,
 * not the client's custodian, the client or the operator): enough to know what it may see and that the consent was
 * revoked, nothing about the client's other recipients or the signed request. Its own IRCP actors stay, the others go
 * (and so does a nested provision that names only others: without its actors it would read as applying to everyone);
 * the signed form (`sourceAttachment`, `sourceReference`), the narrative, contained resources, extensions and
 * `verification` go; `meta.tag` says SUBSETTED, as FHIR marks a `_summary` or `_elements` view. Id, `meta.versionId`
 * and `meta.lastUpdated` are the stored version's.
 *
 * The store applies this view on every read path and judges searches on it (`actor` by the recipient's own references
 * only, `source-reference` as absent), so what is left out cannot be found by searching for it either.
 */
import type { Consent, ConsentProvision, ConsentProvisionActor } from '@medplum/fhirtypes';
import {
  always,
  consentNamesAnyActor,
  never,
  type Presentation,
  type ReferenceValue,
  type SearchFilter,
  type Sql,
} from '@carecircle/store';
import { SUBSETTED_TAG } from '@carecircle/fhir';
import { RECIPIENT_ROLE, RECIPIENT_ROLE_SYSTEM } from './consent-decision';

/** The mark of a resource shown in part (v3-ObservationValue SUBSETTED), as `_summary` and `_elements` views carry it. */
export { SUBSETTED_TAG };

/** The elements of a Consent a recipient is shown (provision is narrowed further). */
const SHOWN_ELEMENTS: ReadonlySet<string> = new Set([
  'resourceType',
  'id',
  'meta',
  'implicitRules',
  'language',
  'modifierExtension',
  'identifier',
  'status',
  'scope',
  'category',
  'patient',
  'dateTime',
  'performer',
  'organization',
  'policy',
  'policyRule',
  'provision',
]);

/** The elements of a provision a recipient is shown (actor and nested provisions are narrowed further). */
const SHOWN_PROVISION_ELEMENTS: ReadonlySet<string> = new Set([
  'id',
  'modifierExtension',
  'type',
  'period',
  'action',
  'securityLabel',
  'purpose',
  'class',
  'code',
  'dataPeriod',
  'data',
]);

/** The role of a recipient among a Consent's provision actors (IRCP). */
const RECIPIENT = { system: RECIPIENT_ROLE_SYSTEM, code: RECIPIENT_ROLE } as const;

/** Search parameters of Consent that read what the view leaves out or narrows. */
const HIDDEN_PARAMETERS: ReadonlySet<string> = new Set(['actor', 'source-reference']);

/**
 * Condition over `rv`, a Consent version: its (top-level) provision names one of `references` as recipient (role
 * IRCP); FALSE for none. Indexed by the containment operator.
 */
export function namesAnyAsRecipient(references: readonly string[]): Sql {
  return consentNamesAnyActor(RECIPIENT, references);
}

/**
 * The store's presentation of Consents for a recipient known by `references` (its organization, practitioner and
 * roles): the versions for which `partial` holds (those it sees only as a named recipient) are shown as
 * {@link showNamedConsent} makes them.
 */
export function namedConsentPresentation(partial: Sql, references: readonly string[]): Presentation {
  const own = new Set(references);
  return {
    partial,
    present: (resource) => (resource.resourceType === 'Consent' ? showNamedConsent(resource, own) : resource),
    hiddenParameters: HIDDEN_PARAMETERS,
    filterShown: (filter) => filterOnShownConsent(filter, references),
  };
}

/** `consent` as a recipient known by `own` references is shown it: a new object, the stored one untouched. */
export function showNamedConsent(consent: Consent, own: ReadonlySet<string>): Consent {
  const shown = pick(consent, SHOWN_ELEMENTS) as Consent;
  const tags = consent.meta?.tag ?? [];
  const subsetted = tags.some((t) => t.system === SUBSETTED_TAG.system && t.code === SUBSETTED_TAG.code);
  shown.meta = { ...consent.meta, tag: subsetted ? [...tags] : [...tags, { ...SUBSETTED_TAG }] };
  const provision = consent.provision && showProvision(consent.provision, own);
  if (provision) {
    shown.provision = provision;
  } else {
    delete shown.provision;
  }
  return shown;
}

/** A provision as shown: undefined when it names recipients and none of them is this one. */
function showProvision(provision: ConsentProvision, own: ReadonlySet<string>): ConsentProvision | undefined {
  const shown = pick(provision, SHOWN_PROVISION_ELEMENTS) as ConsentProvision;
  if (provision.actor !== undefined) {
    const actors = provision.actor.flatMap((actor): ConsentProvisionActor[] => {
      const reference = actor.reference?.reference;
      const recipient = actor.role?.coding?.some((c) => c.system === RECIPIENT_ROLE_SYSTEM && c.code === RECIPIENT_ROLE);
      return recipient && reference !== undefined && own.has(reference) ? [{ role: structuredClone(actor.role), reference: { reference } }] : [];
    });
    if (actors.length === 0) {
      return undefined;
    }
    shown.actor = actors;
  }
  const nested = (provision.provision ?? []).flatMap((p) => showProvision(p, own) ?? []);
  if (nested.length > 0) {
    shown.provision = nested;
  }
  return shown;
}

/** A deep copy of the elements of `value` named in `keep`. */
function pick<T extends object>(value: T, keep: ReadonlySet<string>): Partial<T> {
  const copy: Record<string, unknown> = {};
  for (const [key, element] of Object.entries(value)) {
    if (keep.has(key)) {
      copy[key] = structuredClone(element);
    }
  }
  return copy as Partial<T>;
}

/**
 * The condition over `rv`, a Consent shown to the recipient in part, that `filter` meets on what is shown: `actor`
 * finds it by the recipient's own references only (the only actors shown), and `source-reference` is never shown.
 */
function filterOnShownConsent(filter: SearchFilter, references: readonly string[]): Sql {
  if (filter.param.code === 'actor') {
    if (filter.kind === 'missing') {
      return filter.missing ? never() : always();
    }
    if (filter.kind === 'reference') {
      const named = [...new Set(filter.values.flatMap((value) => ownReferencesFor(value, references)))];
      return consentNamesAnyActor(RECIPIENT, named);
    }
    return never();
  }
  // source-reference, and anything else the view leaves out: absent from what is shown.
  if (filter.kind === 'missing') {
    return filter.missing ? always() : never();
  }
  return never();
}

/** The recipient's own references a searched reference value designates (a bare id: any of its types). */
function ownReferencesFor(value: ReferenceValue, references: readonly string[]): string[] {
  if (value.kind !== 'target') {
    return [];
  }
  return references.filter((reference) => {
    const [type, id] = reference.split('/');
    return id === value.id && (value.resourceType === undefined || value.resourceType === type);
  });
}
