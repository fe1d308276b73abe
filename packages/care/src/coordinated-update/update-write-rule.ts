/**
 * The write rule of coordinated updates (DESIGN.md, "Coordinated updates"): every write of a Composition claiming the
 * coordinated-update profile, by any path (POST, PUT, PATCH, batch and transaction entries, the operations), passes
 * here inside the write's transaction.
 *
 * - A plain write creates or edits a draft: the state is `draft` (set when absent), status `preliminary`. Once
 *   submitted, an update is no longer edited (422: withdraw it and draft a new one); a released one never changes.
 *   Only the transition underway (update-transition.ts) moves the state, and only as that transition says.
 * - What it may hold: subject the client (a plain Patient reference), custodian the client's practice, exactly one
 *   recipient (an Organization, Practitioner or PractitionerRole of the directory that names someone now); sections a
 *   share category (never psychotherapy notes), the letter, or (released only) the notice against re-disclosure; each
 *   entry a resource of this client filed under its section's category, not a psychotherapy note; version-specific
 *   once submitted (the entries are frozen then).
 * - Nothing beyond the client's consents: every category it holds (and its own) must be granted to the recipient for
 *   treatment by a consent in force (422 naming the categories), judged by the grant index as reads are, at every write
 *   that is not a decline or a withdrawal, so an approval after a revocation is refused too.
 * - Its labels: the most sensitive category of its sections (never lower than before) and every section's sensitivity
 *   label, so it is disclosed only where each of them is.
 */
import {
  DEFAULT_PURPOSE,
  isPsychotherapyNoteResource,
  isShareCategory,
  PSYCHOTHERAPY_NOTES,
  resolveRecipients,
  securityLabelsFor,
  sensitivityRank,
  SHARE_CATEGORY_SYSTEM,
  ungrantedCategories,
  UPDATE_STATE_URL,
  UPDATE_SUBMITTED_URL,
  type ShareCategory,
  type UpdateState,
} from '@carecircle/consent';
import { computePatientCompartments, readPatientCustodian, type Queryable, type WriteRule } from '@carecircle/store';
import type { Composition, ResourceType } from '@medplum/fhirtypes';
import { refuseUnprocessable } from '../care-outcomes';
import { readCurrent } from '../current-resources';
import { categoriesOf, entriesOf, isCoordinatedUpdate, parseEntryReference, recipientExtensions, sectionCategory, sectionKind, stateOf, STATUS_OF_STATE } from './update-facts';
import { transitionUnderway } from './update-transition';

const RECIPIENT_REFERENCE = /^(Organization|Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;
const FALLBACK_CATEGORY: ShareCategory = 'progress';

/** Holds every write of a coordinated update to its lifecycle and content rules; other resources pass untouched. */
export const checkCoordinatedUpdate: WriteRule = async (next, current, tx) => {
  if (next.resourceType !== 'Composition') {
    return;
  }
  const isUpdate = isCoordinatedUpdate(next);
  const wasUpdate = isCoordinatedUpdate(current);
  if (!isUpdate && !wasUpdate) {
    return;
  }
  if (!isUpdate) {
    refuseUnprocessable('A coordinated update stays one: keep its profile claim', 'Composition.meta.profile');
  }
  if (current !== undefined && !wasUpdate) {
    refuseUnprocessable('A Composition becomes a coordinated update only when created as one (POST)', 'Composition.meta.profile');
  }
  const update = next as Composition;
  const to = stateAfter(update, wasUpdate ? stateOf(current) : undefined);
  if (update.status !== STATUS_OF_STATE[to]) {
    refuseUnprocessable(`A coordinated update in state ${to} has status ${STATUS_OF_STATE[to] ?? ''}`, 'Composition.status');
  }
  update.extension = [...(update.extension ?? []).filter((e) => e.url !== UPDATE_STATE_URL), { url: UPDATE_STATE_URL, valueCode: to }];
  if (to === 'declined' || to === 'withdrawn') {
    // Nothing leaves with a declined or withdrawn update: its content was judged when written, and is void now.
    return;
  }
  const patient = await checkParties(update, tx);
  await checkSectionsAndEntries(update, to, patient, tx);
  labelAsItsSections(update, current as Composition | undefined);
  await checkConsents(update, patient, tx);
};

/** The state the write leaves the update in: the transition's, or `draft` for a plain write (which must be one). */
function stateAfter(update: Composition, from: UpdateState | undefined): UpdateState {
  const transition = transitionUnderway();
  if (transition) {
    if (transition.id !== update.id || transition.from !== from || (stateOf(update) ?? transition.to) !== transition.to) {
      refuseUnprocessable('This write is not the state change underway', 'Composition.extension');
    }
    return transition.to;
  }
  if (from === 'released') {
    refuseUnprocessable('A released update cannot change: what the client approved stays as approved', 'Composition');
  }
  if (from !== undefined && from !== 'draft') {
    refuseUnprocessable(`An update ${from} can no longer be edited: $withdraw it (if it awaits approval) and draft a new one`, 'Composition');
  }
  const named = stateOf(update);
  const stateExtensions = (update.extension ?? []).filter((e) => e.url === UPDATE_STATE_URL).length;
  if (stateExtensions > 1 || (stateExtensions === 1 && named !== 'draft')) {
    refuseUnprocessable('A coordinated update is written as a draft; it changes state only through $submit, $withdraw, $approve and $decline', 'Composition.extension');
  }
  if ((update.extension ?? []).some((e) => e.url === UPDATE_SUBMITTED_URL)) {
    refuseUnprocessable('The submission time of an update is set by $submit', 'Composition.extension');
  }
  return 'draft';
}

/** Subject, custodian and recipient; returns the client (`Patient/x`). */
async function checkParties(update: Composition, tx: Queryable): Promise<string> {
  const subject = parseEntryReference(update.subject?.reference);
  if (subject?.resourceType !== 'Patient' || subject.versionId !== undefined) {
    refuseUnprocessable('The subject of a coordinated update is the client, as Patient/{id}', 'Composition.subject');
  }
  const custodian = await readPatientCustodian(tx, subject.id);
  if (custodian === undefined || update.custodian?.reference !== custodian) {
    refuseUnprocessable("The custodian of a coordinated update is the client's practice (the Patient's managingOrganization)", 'Composition.custodian');
  }
  const recipients = recipientExtensions(update);
  const recipient = recipients[0]?.valueReference?.reference;
  if (recipients.length !== 1 || recipient === undefined || !RECIPIENT_REFERENCE.test(recipient)) {
    refuseUnprocessable(
      'A coordinated update names exactly one recipient, an Organization, Practitioner or PractitionerRole as Type/id, in the update-recipient extension',
      'Composition.extension',
    );
  }
  const [type = '', id = ''] = recipient.split('/');
  const named = await readCurrent(tx, type as ResourceType, id);
  if (!named || (named as { active?: boolean }).active === false || (await resolveRecipients(tx, recipient)).length === 0) {
    refuseUnprocessable(`${recipient} names nobody who could receive the update (absent, or not active)`, 'Composition.extension');
  }
  return `Patient/${subject.id}`;
}

/** Sections a share category, the letter or (released) the notice; entries this client's, filed as their section. */
async function checkSectionsAndEntries(update: Composition, state: UpdateState, patient: string, tx: Queryable): Promise<void> {
  for (const section of update.section ?? []) {
    const category = sectionCategory(section);
    const kind = sectionKind(section);
    if (category === PSYCHOTHERAPY_NOTES) {
      refuseUnprocessable('Psychotherapy notes are never shared: a coordinated update cannot hold a psychotherapy-notes section', 'Composition.section.code');
    }
    if (category !== undefined && !isShareCategory(category)) {
      refuseUnprocessable(`Unknown share category ${category}`, 'Composition.section.code');
    }
    if (category === undefined && kind !== 'letter' && !(kind === 'redisclosure-notice' && state === 'released')) {
      refuseUnprocessable('Each section of a coordinated update is a share category or the letter (update-section letter)', 'Composition.section.code');
    }
    if (category === undefined && (section.entry ?? []).length > 0) {
      refuseUnprocessable('Only share-category sections hold entries', 'Composition.section.entry');
    }
  }
  for (const entry of entriesOf(update)) {
    const target = parseEntryReference(entry.reference);
    if (!target) {
      refuseUnprocessable('Each entry of a coordinated update is a relative reference Type/id (or Type/id/_history/v)', 'Composition.section.entry');
    }
    const named = `${target.resourceType}/${target.id}`;
    if (state !== 'draft' && target.versionId === undefined) {
      refuseUnprocessable(`Once submitted an update names exact versions: ${named} needs its /_history/{version}`, 'Composition.section.entry');
    }
    const stored = await readCurrent(tx, target.resourceType as ResourceType, target.id);
    if (!stored || (target.versionId !== undefined && !(Number(target.versionId) >= 1 && Number(target.versionId) <= Number(stored.meta?.versionId)))) {
      refuseUnprocessable(`${entry.reference} names nothing stored`, 'Composition.section.entry');
    }
    if (!computePatientCompartments(stored).includes(patient)) {
      refuseUnprocessable(`${named} is not part of this client's record`, 'Composition.section.entry');
    }
    const filed = stored.meta?.tag?.find((t) => t.system === SHARE_CATEGORY_SYSTEM)?.code;
    if (isPsychotherapyNoteResource(stored) || filed === PSYCHOTHERAPY_NOTES) {
      refuseUnprocessable(`${named} is a psychotherapy note: psychotherapy notes are never shared`, 'Composition.section.entry');
    }
    if (filed !== entry.category) {
      refuseUnprocessable(`${named} is filed under ${filed ?? 'no category'}, not ${entry.category}: put it in that section`, 'Composition.section.entry');
    }
  }
}

/** Tags the update with the most sensitive of its sections' categories (never lower than before) and their labels. */
function labelAsItsSections(update: Composition, current: Composition | undefined): void {
  const tagged = (resource: Composition | undefined) => resource?.meta?.tag?.find((t) => t.system === SHARE_CATEGORY_SYSTEM)?.code;
  const candidates = [...categoriesOf(update), tagged(update), tagged(current)].filter(isShareCategory);
  const category = candidates.reduce<ShareCategory>((most, c) => (sensitivityRank(c) > sensitivityRank(most) ? c : most), candidates[0] ?? FALLBACK_CATEGORY);
  const labels = categoriesOf(update).flatMap(securityLabelsFor);
  update.meta = {
    ...update.meta,
    tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }, ...(update.meta?.tag ?? []).filter((t) => t.system !== SHARE_CATEGORY_SYSTEM)],
    security: [...(update.meta?.security ?? []), ...labels],
  };
}

/** 422 unless a consent in force grants the recipient every category the update holds, for treatment. */
async function checkConsents(update: Composition, patient: string, tx: Queryable): Promise<void> {
  const recipient = recipientExtensions(update)[0]?.valueReference?.reference ?? '';
  const own = update.meta?.tag?.find((t) => t.system === SHARE_CATEGORY_SYSTEM)?.code;
  const categories = [...new Set([...categoriesOf(update), ...(own ? [own] : [])])];
  const now = new Date();
  let missing: string[] = categories;
  // A practitioner acts for each organization it works for: any one of them that may see everything will do.
  for (const one of await resolveRecipients(tx, recipient)) {
    const ungranted = await ungrantedCategories(tx, patient, categories, { recipient: one, purpose: DEFAULT_PURPOSE, now });
    if (ungranted.length === 0) {
      return;
    }
    missing = ungranted.length < missing.length ? ungranted : missing;
  }
  refuseUnprocessable(
    `No consent in force of this client lets ${recipient} see ${missing.join(', ')} for ${DEFAULT_PURPOSE}: leave it out, or ask the client to add it to a consent naming ${recipient}`,
    'Composition.section',
  );
}
