/**
 * The audit trail of the operator's admin changes: one AuditEvent per change (registering, updating, disabling and
 * enabling a client or user, resetting a password, rotating the signing key, replaying a dead letter), written through
 * the server's own repository in the same transaction as the change, so a change is made with its record or not at
 * all. Coded DICOM `110100` "Application Activity" (the operator changed how the application runs), with a subtype from
 * CareCircle's admin-action code system saying which change. The agent is the operator; the entities are what changed,
 * as identifiers only (client_id, user account id, kid, dead-letter id): never a password, a key, a username or a
 * reference to a Patient, so these events are in no client's compartment and only the operator sees them.
 */
import { accessSettingsFrom, createRecordsRepository } from '@carecircle/access';
import { SERVER_WRITER } from '@carecircle/auth';
import { OAUTH_CLIENT_SYSTEM, OPERATOR_SYSTEM } from '@carecircle/fhir';
import type { Transaction } from '@carecircle/store';
import type { AuditEvent, AuditEventEntity } from '@medplum/fhirtypes';
import type { AppServices } from '../app-services';

const DICOM = 'http://dicom.nema.org/resources/ontology/DCM';
/** CareCircle's codes for the operator's admin changes (`AuditEvent.subtype`). */
export const ADMIN_ACTION_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/admin-action';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';

/** Identifier systems of what an admin change is about. */
export const ADMIN_ENTITY_SYSTEMS = {
  client: OAUTH_CLIENT_SYSTEM,
  user: 'https://carecircle.dev/fhir/user-account',
  signingKey: 'https://carecircle.dev/fhir/signing-key',
  deadLetter: 'https://carecircle.dev/fhir/dead-letter',
} as const;

/** Each admin change, with its display and its FHIR `AuditEvent.action`. */
const ADMIN_ACTIONS = {
  'client-register': { display: 'Client registered', action: 'C' },
  'client-update': { display: 'Client updated', action: 'U' },
  'client-disable': { display: 'Client disabled', action: 'U' },
  'client-enable': { display: 'Client enabled', action: 'U' },
  'user-create': { display: 'User created', action: 'C' },
  'user-password-reset': { display: 'User password reset', action: 'U' },
  'user-disable': { display: 'User disabled', action: 'U' },
  'user-enable': { display: 'User enabled', action: 'U' },
  'signing-key-rotate': { display: 'Token signing key rotated', action: 'C' },
  'dead-letter-replay': { display: 'Dead-lettered notification replayed', action: 'E' },
} as const satisfies Record<string, { display: string; action: AuditEvent['action'] }>;

export type AdminAction = keyof typeof ADMIN_ACTIONS;

/** What an admin change is about: one identifier, and for an update the names (never values) of the fields changed. */
export interface AdminSubject {
  kind: keyof typeof ADMIN_ENTITY_SYSTEMS;
  id: string;
  changed?: readonly string[];
}

/** The AuditEvent of one admin change. */
export function adminAuditEvent(action: AdminAction, subjects: readonly AdminSubject[], requestId: string, now: Date): AuditEvent {
  const { display, action: code } = ADMIN_ACTIONS[action];
  const entity = subjects.map(
    (subject): AuditEventEntity => ({
      what: { identifier: { system: ADMIN_ENTITY_SYSTEMS[subject.kind], value: subject.id } },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      ...(subject.changed && subject.changed.length > 0 ? { detail: [{ type: 'changed', valueString: subject.changed.join(' ') }] } : {}),
    }),
  );
  return {
    resourceType: 'AuditEvent',
    type: { system: DICOM, code: '110100', display: 'Application Activity' },
    subtype: [{ system: ADMIN_ACTION_SYSTEM, code: action, display }],
    action: code,
    recorded: now.toISOString(),
    outcome: '0',
    agent: [{ who: { identifier: { system: OPERATOR_SYSTEM, value: 'admin' }, display: 'Operator (admin token)' }, requestor: true }],
    source: { observer: { display: 'CareCircle API' }, site: requestId },
    entity,
  };
}

/** Writes the AuditEvent of admin change `action` (about `subjects`) inside the open transaction `tx` of `deps.db`. */
export async function recordAdminAction(
  deps: Pick<AppServices, 'db' | 'config'>,
  tx: Transaction,
  requestId: string,
  action: AdminAction,
  subjects: readonly AdminSubject[],
): Promise<void> {
  // The server's record of the operator's change: the operator acts with the server's rights (SERVER_CALLER is the admin).
  const repository = createRecordsRepository(deps.db, accessSettingsFrom(deps.config), SERVER_WRITER, tx);
  await repository.create(adminAuditEvent(action, subjects, requestId, new Date()));
}

/**
 * Runs the admin change `change` in one transaction with its AuditEvent (`action`, about `subjectsOf` its result):
 * both are committed, or neither (an error in either answers as the error handler maps it, with nothing changed).
 */
export async function withAdminAuditEvent<T>(
  deps: Pick<AppServices, 'db' | 'config'>,
  requestId: string,
  action: AdminAction,
  change: (tx: Transaction) => Promise<T>,
  subjectsOf: (result: T) => readonly AdminSubject[],
): Promise<T> {
  return deps.db.transaction(async (tx) => {
    const result = await change(tx);
    await recordAdminAction(deps, tx, requestId, action, subjectsOf(result));
    return result;
  });
}
