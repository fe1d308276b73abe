/**
 * The terms of a coordinated update (DESIGN.md, "Coordinated updates") that the disclosure rules and the care workflow
 * both read: its lifecycle states, the extensions it carries, its section codes, and the DS4P label that marks what a
 * partner is shown as not to be disclosed further. The profile, state and recipient canonicals are @carecircle/fhir's
 * (the subscription topic reads them too).
 */
import { CARECIRCLE_CANONICAL_BASE, COORDINATED_UPDATE_PROFILE, UPDATE_RECIPIENT_URL, UPDATE_STATE_URL } from '@carecircle/fhir';
import type { Coding } from '@medplum/fhirtypes';

export { COORDINATED_UPDATE_PROFILE, UPDATE_RECIPIENT_URL, UPDATE_STATE_URL };

/** The lifecycle of a coordinated update, in the order it moves (CodeSystem update-state). */
export const UPDATE_STATES = ['draft', 'awaiting-approval', 'released', 'declined', 'withdrawn'] as const;

export type UpdateState = (typeof UPDATE_STATES)[number];

/** The CodeSystem of {@link UPDATE_STATES}. */
export const UPDATE_STATE_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/CodeSystem/update-state`;

/** Extension (valueDateTime) set when an update is submitted: from then on the client sees it. */
export const UPDATE_SUBMITTED_URL = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/update-submitted`;

/** Extension (valueBoolean, default true) on a sharing Consent: whether updates to its recipients need approval. */
export const UPDATE_APPROVAL_URL = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/update-approval`;

/** Section codes of an update besides the share categories (CodeSystem update-section): the letter, the notice. */
export const UPDATE_SECTION_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/CodeSystem/update-section`;

/**
 * DS4P's refrain label "no redisclosure without consent directive" (HL7 v3 ActCode NORDSCLCD): in `meta.security` of
 * everything a partner is shown under consent.
 */
export const NO_REDISCLOSURE_LABEL: Readonly<Coding> = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  code: 'NORDSCLCD',
  display: 'no redisclosure without consent directive',
};

/**
 * What happened to an update (CodeSystem update-event): AuditEvent.subtype and Provenance.activity of its lifecycle,
 * and the Communication.category of a client's reason for declining one (kept between the client and the practice).
 */
export const UPDATE_EVENT_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/CodeSystem/update-event`;
