/**
 * Creates that start a workflow: a referral (a ServiceRequest with the referral category) is created with its Task by
 * @carecircle/care, atomically and only under a consent naming the performer; a conditional one (`If-None-Exist`)
 * answers an existing match as any conditional create does, and otherwise is created the same way. Every other create
 * is a plain create. Used for single requests and for batch/transaction entries alike.
 */
import { createReferral, createReferralIfNoneExist, isReferralRequest } from '@carecircle/care';
import type { CreateOptions, Repository, WriteOutcome } from '@carecircle/store';
import type { Resource, ServiceRequest } from '@medplum/fhirtypes';

export interface WorkflowSettings {
  /** Hours a partner has to acknowledge a referral. */
  referralAckHours: number;
}

/** Creates `resource`, through its workflow when it starts one. */
export async function createWithWorkflows(
  repository: Repository,
  resource: Resource,
  options: CreateOptions,
  settings: WorkflowSettings,
): Promise<WriteOutcome> {
  if (isReferral(resource)) {
    const referralOptions = {
      now: new Date(),
      acknowledgeWithinHours: settings.referralAckHours,
      ...(options.id === undefined ? {} : { serviceRequestId: options.id }),
    };
    if (options.ifNoneExist !== undefined) {
      const { serviceRequest, outcome } = await createReferralIfNoneExist(repository, resource, options.ifNoneExist, referralOptions);
      return { resource: serviceRequest, outcome };
    }
    const { serviceRequest } = await createReferral(repository, resource, referralOptions);
    return { resource: serviceRequest, outcome: 'created' };
  }
  return repository.create(resource, options);
}

function isReferral(resource: Resource): resource is ServiceRequest {
  return isReferralRequest(resource);
}
