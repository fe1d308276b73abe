/**
 * A referral's deadlines (DESIGN.md, "Referral follow-through"): how long the partner has to acknowledge it and to
 * complete it depends on the ServiceRequest's `priority` (routine, urgent, asap, stat; absent counts as routine), each a
 * configured number of **business hours** of the practice (business-hours.ts). The acknowledgement deadline is the
 * Task's `restriction.period.end` (contract); the completion deadline is the Task's extension
 * `https://carecircle.dev/fhir/StructureDefinition/referral-completion-due` (valueDateTime). The follow-up steps are
 * placed around the acknowledgement deadline in the same business hours: the reminder `remindBefore` business hours
 * before it, the escalation at it, the expiry `expireAfter` business hours after it.
 */
import type { Organization, Patient, ServiceRequest, Task } from '@medplum/fhirtypes';
import { CARECIRCLE_CANONICAL_BASE, OperationOutcomeError, readOrUndefined, statusOf } from '@carecircle/fhir';
import type { Repository } from '@carecircle/store';
import { addBusinessHours, businessHoursOf, defaultBusinessHours, type BusinessHours } from './business-hours';
import { referenceTo } from './current-resources';

/** ServiceRequest.priority codes (http://hl7.org/fhir/request-priority). */
export const REFERRAL_PRIORITIES = ['routine', 'urgent', 'asap', 'stat'] as const;
export type ReferralPriority = (typeof REFERRAL_PRIORITIES)[number];

/** The Task extension holding the completion deadline (valueDateTime). */
export const COMPLETION_DUE_URL = `${CARECIRCLE_CANONICAL_BASE}/StructureDefinition/referral-completion-due`;

/** How long each step takes, in business hours (configuration: REFERRAL_* variables, packages/config). */
export interface ReferralDeadlineSettings {
  /** The zone of practices whose Organization names none (default business hours: Mon-Fri 09:00-17:00 there). */
  timeZone: string;
  /** Business hours the partner has to acknowledge (accept or reject), per priority. */
  acknowledgeWithin: Readonly<Record<ReferralPriority, number>>;
  /** Business hours, from the referral, until the consult is due, per priority. */
  completeWithin: Readonly<Record<ReferralPriority, number>>;
  /** The reminder to the owner comes this many business hours before the acknowledgement deadline. */
  remindBefore: number;
  /** The Task expires this many business hours after the acknowledgement deadline passed unanswered. */
  expireAfter: number;
}

/** The documented defaults: 2 business days to acknowledge a routine referral, 10 to complete it. */
export const DEFAULT_REFERRAL_DEADLINES: ReferralDeadlineSettings = {
  timeZone: 'UTC',
  acknowledgeWithin: { routine: 16, urgent: 8, asap: 4, stat: 1 },
  completeWithin: { routine: 80, urgent: 40, asap: 16, stat: 8 },
  remindBefore: 4,
  expireAfter: 16,
};

/** The priority of `request`; routine when it names none (or one R4 does not have). */
export function referralPriority(request: Pick<ServiceRequest, 'priority'> | Pick<Task, 'priority'>): ReferralPriority {
  const priority = request.priority;
  return (REFERRAL_PRIORITIES as readonly string[]).includes(priority ?? '') ? (priority as ReferralPriority) : 'routine';
}

/** The two deadlines of a referral sent at `sent`. */
export interface ReferralDeadlines {
  acknowledgeBy: Date;
  completeBy: Date;
}

/** The deadlines of a referral of `priority` sent at `sent` by a practice working `hours`. */
export function referralDeadlines(sent: Date, priority: ReferralPriority, hours: BusinessHours, settings: ReferralDeadlineSettings): ReferralDeadlines {
  return {
    acknowledgeBy: addBusinessHours(sent, settings.acknowledgeWithin[priority], hours),
    completeBy: addBusinessHours(sent, settings.completeWithin[priority], hours),
  };
}

/** When each follow-up step of an acknowledgement deadline `acknowledgeBy` is due. */
export interface FollowUpTimes {
  remindAt: Date;
  escalateAt: Date;
  expireAt: Date;
}

/** The follow-up steps around `acknowledgeBy` (see the module header). */
export function followUpTimes(acknowledgeBy: Date, hours: BusinessHours, settings: Pick<ReferralDeadlineSettings, 'remindBefore' | 'expireAfter'>): FollowUpTimes {
  return {
    remindAt: addBusinessHours(acknowledgeBy, -settings.remindBefore, hours),
    escalateAt: acknowledgeBy,
    expireAt: addBusinessHours(acknowledgeBy, settings.expireAfter, hours),
  };
}

/**
 * The business hours of the practice that referred `patient`: its custodian (Patient.managingOrganization) as
 * `repository` shows it, else the defaults of `settings.timeZone`. A patient without a custodian, a custodian the
 * repository does not show, or one whose extension was stored before it was checked and does not read, gets the
 * defaults: a deadline is always set. A database error is thrown.
 */
export async function practiceBusinessHours(repository: Repository, patient: string | undefined, settings: Pick<ReferralDeadlineSettings, 'timeZone'>): Promise<BusinessHours> {
  try {
    const patientTarget = referenceTo(patient, 'Patient');
    const stored = patientTarget ? await readOrUndefined<Patient>(repository, 'Patient', patientTarget.id) : undefined;
    const organizationTarget = referenceTo(stored?.managingOrganization?.reference, 'Organization');
    const organization = organizationTarget ? await readOrUndefined<Organization>(repository, 'Organization', organizationTarget.id) : undefined;
    return businessHoursOf(organization, settings.timeZone);
  } catch (err) {
    if (err instanceof OperationOutcomeError && statusOf(err.outcome) < 500) {
      return defaultBusinessHours(settings.timeZone);
    }
    throw err;
  }
}
