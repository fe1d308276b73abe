/**
 * The capabilities an operation handler gets for one request (operation-context.ts), made here from the request's
 * context and the process's services: the one place where operations meet the database, each capability a function
 * over it (who a recipient is, what a recipient would see, the subscriptions' event log) bound to the caller's access.
 */
import { accessSettingsFrom, createRecipientView, createRecordsRepository } from '@carecircle/access';
import type { RequestContext } from '@carecircle/auth';
import { DEFAULT_PURPOSE, resolveRecipients } from '@carecircle/consent';
import { listSubscriptionEvents, readDeliveryState } from '@carecircle/notify';
import { createRepository, type AccessPolicy } from '@carecircle/store';
import type { AppServices } from '../../app-services';
import type { OperationContext } from './operation-context';

/** The capabilities of the caller of `request`. */
export function createOperationContext(services: AppServices, request: RequestContext): OperationContext {
  const { db, config } = services;
  const { repository, caller, purpose = DEFAULT_PURPOSE } = request;
  return {
    repository,
    caller,
    purpose,
    baseUrl: config.fhirBaseUrl,
    resolveRecipients: (reference) => resolveRecipients(db, reference),
    // Within the caller's own policy: a preview never shows the caller what its own scopes keep from it.
    recipientView: async (recipients, viewPurpose) => createRecipientView(db, recipients, viewPurpose, repository.policy),
    readerWithoutDenialRecords: () => createRepository(db, withoutDenialRecords(repository.policy)),
    coordinatedUpdates: () => ({
      caller,
      reader: repository,
      // The steps are the server's records (every right), judged by the pipeline as this caller's writes.
      writer: createRecordsRepository(db, accessSettingsFrom(config), { caller, policy: repository.policy }),
      resolveRecipients: (reference) => resolveRecipients(db, reference),
    }),
    subscriptionEvents: {
      lastEventNumber: async (subscriptionId) => (await readDeliveryState(db, subscriptionId)).lastEventNumber,
      list: (subscriptionId, since, until, limit) => listSubscriptionEvents(db, subscriptionId, since, until, limit),
    },
  };
}

/** `policy`, its disclosures still recorded, its refusals not. */
function withoutDenialRecords(policy: AccessPolicy): AccessPolicy {
  const { recorder, ...rest } = policy;
  if (!recorder) {
    return rest;
  }
  return { ...rest, recorder: { recordDisclosure: (disclosure) => recorder.recordDisclosure(disclosure), recordDenial: () => Promise.resolve() } };
}
