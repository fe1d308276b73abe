/**
 * The one entry point through which the API writes a create or an update that may start a care workflow. Today one
 * does: a referral (a ServiceRequest with the referral category) is created with its Task, atomically and only under a
 * consent naming the performer (create-referral.ts); a conditional one (`If-None-Exist`) answers an existing match as
 * any conditional create does. The operator's update-as-create of an absent referral id (only the admin token chooses
 * ids) is that referral's create. Every other write is the repository's plain create or update. Used for single
 * requests and for batch/transaction entries alike, so the API never decides what is a referral.
 */
import { OperationOutcomeError, statusOf } from '@carecircle/fhir';
import type { CreateOptions, Repository, UpdateOptions, WriteOutcome } from '@carecircle/store';
import type { Resource, ServiceRequest } from '@medplum/fhirtypes';
import { isReferralRequest } from './care-codes';
import { createReferral, createReferralIfNoneExist } from './create-referral';
import type { ReferralDeadlineSettings } from './referral-deadlines';

/** Settings of the care workflows, from configuration. */
export interface WorkflowSettings {
  /**
   * Business hours a partner has to acknowledge and complete a referral, per priority, and the follow-up steps
   * (config `referralDeadlines`); default DEFAULT_REFERRAL_DEADLINES (referral-deadlines.ts).
   */
  referralDeadlines?: ReferralDeadlineSettings;
  /** The clock referrals are dated by; default the system's. Tests pass one they can set. */
  now?: () => Date;
}

/** A write the API was asked for: a create (with its conditional or assigned id) or an update (with its If-Match). */
export type WorkflowWrite =
  | { interaction: 'create'; resource: Resource; options: CreateOptions }
  | { interaction: 'update'; resource: Resource; options: UpdateOptions };

/** Writes `write` with the caller's `repository`, through the workflow it starts when it starts one. */
export async function writeThroughWorkflows(repository: Repository, write: WorkflowWrite, settings: WorkflowSettings): Promise<WriteOutcome> {
  switch (write.interaction) {
    case 'create':
      return createThroughWorkflows(repository, write.resource, write.options, settings);
    case 'update': {
      const { resource } = write;
      if (
        repository.policy.clientAssignedIds &&
        isReferral(resource) &&
        resource.id !== undefined &&
        !(await exists(repository, resource.resourceType, resource.id))
      ) {
        // The operator's update-as-create of a referral is a referral's create: consent checked, Task made with it.
        return createThroughWorkflows(repository, resource, { id: resource.id }, settings);
      }
      return repository.update(resource, write.options);
    }
    default:
      return write satisfies never;
  }
}

async function createThroughWorkflows(repository: Repository, resource: Resource, options: CreateOptions, settings: WorkflowSettings): Promise<WriteOutcome> {
  if (!isReferral(resource)) {
    return repository.create(resource, options);
  }
  const referralOptions = {
    now: settings.now?.() ?? new Date(),
    ...(settings.referralDeadlines === undefined ? {} : { deadlines: settings.referralDeadlines }),
    ...(options.id === undefined ? {} : { serviceRequestId: options.id }),
  };
  if (options.ifNoneExist !== undefined) {
    const { serviceRequest, outcome } = await createReferralIfNoneExist(repository, resource, options.ifNoneExist, referralOptions);
    return { resource: serviceRequest, outcome };
  }
  const { serviceRequest } = await createReferral(repository, resource, referralOptions);
  return { resource: serviceRequest, outcome: 'created' };
}

function isReferral(resource: Resource): resource is ServiceRequest {
  return isReferralRequest(resource);
}

/** Whether any version of `resourceType/id` is stored (a deleted one counts: it is not created anew). */
async function exists(repository: Repository, resourceType: string, id: string): Promise<boolean> {
  try {
    await repository.read(resourceType, id);
    return true;
  } catch (err) {
    if (err instanceof OperationOutcomeError && statusOf(err.outcome) === 404) {
      return false;
    }
    if (err instanceof OperationOutcomeError && statusOf(err.outcome) === 410) {
      return true;
    }
    throw err;
  }
}
