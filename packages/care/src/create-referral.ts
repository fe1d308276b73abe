/**
 * Making a referral (contract, DESIGN.md): a ServiceRequest to a partner and the Task that tracks it, created together
 * in one transaction, and only while an active consent of the client names the partner for the referral's share
 * category and treatment. The caller's repository does the writing, so custodianship and scopes apply as for any
 * write, and the Task passes the workflow rule (only the referring practice may create it).
 *
 * Decisions: the referral category (SNOMED CT 3457005) is required, not added; `status` must be `active` (a draft is
 * not sent); the share category is the SR's `meta.tag` (one, default `care-plan`, added when absent) and the Task gets
 * the same tag and security labels. The consent is checked inside the transaction that creates both resources, so a
 * revocation committed before the check is always seen.
 */
import type { Coding, Consent, Organization, Period, PractitionerRole, Reference, ServiceRequest, Task } from '@medplum/fhirtypes';
import {
  DEFAULT_PURPOSE,
  isShareCategory,
  periodCovers,
  permittedCategories,
  PSYCHOTHERAPY_NOTES,
  SHARE_CATEGORY_SYSTEM,
  type Recipient,
  type ShareCategory,
} from '@carecircle/consent';
import { parseRelativeReference, readOrUndefined, type ReferenceTarget } from '@carecircle/fhir';
import type { Repository } from '@carecircle/store';
import { FULFILL_TASK_CODE, isReferralRequest } from './care-codes';
import { refuseInvalid, refuseUnprocessable } from './care-outcomes';
import { referenceTo } from './current-resources';
import { isObject, listOf, referenceElementsOf, referenceOf } from './element-shapes';
import { followUpConcept } from './follow-up-state';
import {
  COMPLETION_DUE_URL,
  DEFAULT_REFERRAL_DEADLINES,
  practiceBusinessHours,
  referralDeadlines,
  referralPriority,
  type ReferralDeadlines,
  type ReferralDeadlineSettings,
} from './referral-deadlines';

/** The share category of a referral that names none. */
export const DEFAULT_REFERRAL_CATEGORY: ShareCategory = 'care-plan';

export interface ReferralOptions {
  /** The clock: `authoredOn`, the consent's period, and the deadlines derive from it. */
  now: Date;
  /**
   * How many business hours of the practice the partner has to acknowledge and complete, per priority
   * (referral-deadlines.ts); default {@link DEFAULT_REFERRAL_DEADLINES}.
   */
  deadlines?: ReferralDeadlineSettings;
  /** The ServiceRequest's id, when the caller assigned one (transaction bundles resolving `urn:uuid:` references). */
  serviceRequestId?: string;
}

export interface Referral {
  serviceRequest: ServiceRequest;
  task: Task;
}

/** A conditional referral: created with its Task, or the one existing match of the search (nothing written). */
export type ConditionalReferral = ({ outcome: 'created' } & Referral) | { outcome: 'existing'; serviceRequest: ServiceRequest };

/** What a referral must say, checked before anything is read. */
interface ReferralFacts {
  patient: ReferenceTarget;
  performer: Reference & { reference: string };
  performerTarget: ReferenceTarget;
  category: ShareCategory;
  /** False when the referral names no share category and gets the default. */
  categoryGiven: boolean;
}

/**
 * Creates the referral `serviceRequest` and its Task atomically, after checking the client's consent.
 * 400 for a malformed referral, 422 when the performer does not exist or no active consent of the client names it for
 * the referral's category and treatment (nothing is stored then); otherwise both resources as stored.
 */
export async function createReferral(repository: Repository, serviceRequest: ServiceRequest, options: ReferralOptions): Promise<Referral> {
  const referral = await makeReferral(repository, serviceRequest, options, undefined);
  if (referral.outcome !== 'created') {
    throw new Error('an unconditional referral is always created');
  }
  return referral;
}

/**
 * A conditional create of a referral (`If-None-Exist`): the search `ifNoneExist` is run first, as for any conditional
 * create (one match: that ServiceRequest, nothing written; several: 412); without a match the referral is created
 * exactly as {@link createReferral} creates it, consent check and Task included, in one transaction.
 */
export async function createReferralIfNoneExist(
  repository: Repository,
  serviceRequest: ServiceRequest,
  ifNoneExist: string,
  options: ReferralOptions,
): Promise<ConditionalReferral> {
  return makeReferral(repository, serviceRequest, options, ifNoneExist);
}

async function makeReferral(
  repository: Repository,
  serviceRequest: ServiceRequest,
  options: ReferralOptions,
  ifNoneExist: string | undefined,
): Promise<ConditionalReferral> {
  const facts = checkReferralShape(serviceRequest);
  return repository.transaction(async (tx): Promise<ConditionalReferral> => {
    const createOptions = options.serviceRequestId === undefined ? {} : { id: options.serviceRequestId };
    const tagged = withCategoryTag(serviceRequest, facts.category, options.now);
    let request: ServiceRequest | undefined;
    if (ifNoneExist !== undefined) {
      // The store's conditional create matches under its lock; a match ends here. Otherwise the new ServiceRequest is
      // checked below like any referral, and a refusal rolls it back with everything else in this transaction.
      const conditional = await tx.create(tagged, { ...createOptions, ifNoneExist });
      if (conditional.outcome === 'existing') {
        return { outcome: 'existing', serviceRequest: conditional.resource };
      }
      request = conditional.resource;
    }
    const recipient = await resolveRecipient(tx, facts);
    // Written before the consent is looked at, so only a caller that may write the client's record (its practice, the
    // operator) hears what the consents lack; anyone else gets the write's own refusal. A refusal rolls it back.
    request ??= (await tx.create(tagged, createOptions)).resource;
    await assertConsentPermitsReferral(tx, facts, recipient, options.now);
    const settings = options.deadlines ?? DEFAULT_REFERRAL_DEADLINES;
    const hours = await practiceBusinessHours(tx, request.subject?.reference, settings);
    const deadlines = referralDeadlines(options.now, referralPriority(request), hours, settings);
    const task = (await tx.create(buildReferralTask(request, options.now, deadlines))).resource;
    return { outcome: 'created', serviceRequest: request, task };
  });
}

/**
 * The Task that tracks `request` (already stored, with id): `requested`, owned by the performer, of the request's
 * priority, due to be acknowledged by `deadlines.acknowledgeBy` (restriction.period.end) and completed by
 * `deadlines.completeBy` (extension referral-completion-due), its follow-up `on-time` (businessStatus).
 */
export function buildReferralTask(request: ServiceRequest, now: Date, deadlines: ReferralDeadlines): Task {
  return {
    resourceType: 'Task',
    meta: {
      tag: (request.meta?.tag ?? []).filter((tag) => tag.system === SHARE_CATEGORY_SYSTEM),
      ...(request.meta?.security ? { security: request.meta.security } : {}),
    },
    extension: [{ url: COMPLETION_DUE_URL, valueDateTime: deadlines.completeBy.toISOString() }],
    status: 'requested',
    businessStatus: followUpConcept('on-time'),
    intent: 'order',
    priority: referralPriority(request),
    code: { coding: [{ ...FULFILL_TASK_CODE }] },
    focus: { reference: `ServiceRequest/${request.id}` },
    ...(request.subject ? { for: request.subject } : {}),
    ...(request.requester ? { requester: request.requester } : {}),
    ...(request.performer?.[0] ? { owner: request.performer[0] } : {}),
    authoredOn: now.toISOString(),
    restriction: { period: { end: deadlines.acknowledgeBy.toISOString() } },
  };
}

function checkReferralShape(request: ServiceRequest): ReferralFacts {
  if (request.resourceType !== 'ServiceRequest') {
    refuseInvalid('A referral is a ServiceRequest', 'resourceType');
  }
  if (request.status !== 'active') {
    refuseInvalid('A referral is sent with status active', 'ServiceRequest.status');
  }
  if (request.intent !== 'order') {
    refuseInvalid('A referral has intent order', 'ServiceRequest.intent');
  }
  if (request.meta !== undefined && (!isObject(request.meta) || (request.meta.tag !== undefined && !Array.isArray(request.meta.tag)))) {
    refuseInvalid('ServiceRequest.meta.tag must be a list of codings', 'ServiceRequest.meta.tag');
  }
  if (!isReferralRequest(request)) {
    refuseInvalid('A referral has category SNOMED CT 3457005 (Patient referral)', 'ServiceRequest.category');
  }
  const patient = referenceTo(referenceOf(request.subject), 'Patient');
  if (!patient) {
    refuseInvalid('A referral is about a Patient (Patient/{id})', 'ServiceRequest.subject');
  }
  const performers = referenceElementsOf(request.performer);
  if (!Array.isArray(request.performer)) {
    refuseInvalid('A referral names exactly one performer: an Organization or a PractitionerRole', 'ServiceRequest.performer');
  }
  const performer = performers[0];
  const performerTarget = parseRelativeReference(performer?.reference);
  if (
    performers.length !== 1 ||
    !performer?.reference ||
    (performerTarget?.resourceType !== 'Organization' && performerTarget?.resourceType !== 'PractitionerRole')
  ) {
    refuseInvalid('A referral names exactly one performer: an Organization or a PractitionerRole', 'ServiceRequest.performer');
  }
  if (!referenceOf(request.requester)) {
    refuseInvalid('A referral names its requester', 'ServiceRequest.requester');
  }
  const category = referralCategory(request);
  return {
    patient,
    performer: { ...performer, reference: performer.reference },
    performerTarget,
    category: category ?? DEFAULT_REFERRAL_CATEGORY,
    categoryGiven: category !== undefined,
  };
}

/** The referral's own share category; undefined when it names none. */
function referralCategory(request: ServiceRequest): ShareCategory | undefined {
  const codes = new Set(tagsOf(request).filter((tag) => tag.system === SHARE_CATEGORY_SYSTEM).map((tag) => tag.code));
  if (codes.size === 0) {
    return undefined;
  }
  const [code] = codes;
  if (codes.size > 1 || !isShareCategory(code)) {
    refuseInvalid('A referral carries one share category in meta.tag', 'ServiceRequest.meta.tag');
  }
  return code;
}

/**
 * Who receives the referral, as consents name recipients: the Organization; or the PractitionerRole, its organization
 * and its practitioner. The performer must exist (and not be marked inactive) in the caller's view of the directory.
 */
async function resolveRecipient(repository: Repository, facts: ReferralFacts): Promise<Recipient> {
  const { performer, performerTarget } = facts;
  if (performerTarget.resourceType === 'Organization') {
    await readPerformer<Organization>(repository, 'Organization', performerTarget.id);
    return { organization: performer.reference };
  }
  const role = await readPerformer<PractitionerRole>(repository, 'PractitionerRole', performerTarget.id);
  return {
    practitionerRole: performer.reference,
    ...(role.organization?.reference ? { organization: role.organization.reference } : {}),
    ...(role.practitioner?.reference ? { practitioner: role.practitioner.reference } : {}),
  };
}

async function readPerformer<T extends (Organization | PractitionerRole) & { period?: Period }>(
  repository: Repository,
  resourceType: T['resourceType'],
  id: string,
): Promise<T> {
  const performer = await readOrUndefined<T>(repository, resourceType, id);
  if (!performer) {
    refuseUnprocessable('The performer of a referral must be an existing Organization or PractitionerRole', 'ServiceRequest.performer');
  }
  // A role outside its period names nobody (recipient-directory.ts): a referral to it could never be received.
  if (performer.active === false || !periodCovers(performer.period, new Date())) {
    refuseUnprocessable('The performer of a referral must be active', 'ServiceRequest.performer');
  }
  return performer;
}

/**
 * 422 unless some active consent of the client permits the referral's category to `recipient` for treatment. The
 * refusal says what to ask the client for: the recipient, the category and the purpose, and whether a consent naming
 * the recipient exists but lacks the category. It goes only to the caller that could write the referral (the client's
 * practice, the operator), who sees the client's consents anyway.
 */
async function assertConsentPermitsReferral(repository: Repository, facts: ReferralFacts, recipient: Recipient, now: Date): Promise<void> {
  let namesRecipient = false;
  for await (const consent of activeConsentsOf(repository, `Patient/${facts.patient.id}`)) {
    const categories = permittedCategories(consent, recipient, DEFAULT_PURPOSE, now);
    if (categories.includes(facts.category)) {
      return;
    }
    namesRecipient ||= categories.length > 0;
  }
  refuseUnprocessable(missingConsentText(facts, recipient, namesRecipient), 'ServiceRequest.performer');
}

/** The refusal text of {@link assertConsentPermitsReferral}: ids, codes and the purpose only, never a client's data. */
function missingConsentText(facts: ReferralFacts, recipient: Recipient, namesRecipient: boolean): string {
  const { category } = facts;
  const performer = facts.performer.reference;
  if (category === PSYCHOTHERAPY_NOTES) {
    return 'Psychotherapy notes are never shared: a referral cannot carry the psychotherapy-notes share category';
  }
  const others = [recipient.organization, recipient.practitioner].filter((r): r is string => r !== undefined && r !== performer);
  const named = others.length > 0 ? `${performer} (or ${others.join(' or ')})` : performer;
  const which = facts.categoryGiven ? '' : ' (the default, as the referral names no share category in meta.tag)';
  if (namesRecipient) {
    return (
      `The client's active consents naming ${named} for ${DEFAULT_PURPOSE} do not include ${category}${which}: ` +
      `ask the client to add ${category} to a consent naming ${performer}`
    );
  }
  return (
    `No active consent of this client lets ${named} see ${category}${which} for ${DEFAULT_PURPOSE}: ` +
    `ask the client to add ${category} to a consent naming ${performer} for ${DEFAULT_PURPOSE}`
  );
}

/** The client's active Consents, page by page (one page in practice). */
async function* activeConsentsOf(repository: Repository, patient: string): AsyncGenerator<Consent> {
  const query = new URLSearchParams({ patient, status: 'active', _count: '1000' });
  let outcome = await repository.search('Consent', query);
  for (;;) {
    for (const match of outcome.matches) {
      if (match.resourceType === 'Consent') {
        yield match;
      }
    }
    if (!outcome.next) {
      return;
    }
    const nextPage = new URLSearchParams(query);
    nextPage.set('_page', outcome.next);
    outcome = await repository.search('Consent', nextPage);
  }
}

/** The well-formed codings of `meta.tag` (a malformed meta or tag list reads as no tags). */
function tagsOf(request: ServiceRequest): Coding[] {
  return isObject(request.meta) ? listOf(request.meta.tag).filter((tag): tag is Coding => isObject(tag)) : [];
}

/** The referral as stored: its share-category tag added when it had none, `authoredOn` defaulted to now. */
function withCategoryTag(request: ServiceRequest, category: ShareCategory, now: Date): ServiceRequest {
  const tags: Coding[] = tagsOf(request);
  const tagged = tags.some((tag) => tag.system === SHARE_CATEGORY_SYSTEM);
  return {
    ...request,
    meta: { ...request.meta, tag: tagged ? tags : [...tags, { system: SHARE_CATEGORY_SYSTEM, code: category }] },
    authoredOn: request.authoredOn ?? now.toISOString(),
  };
}
