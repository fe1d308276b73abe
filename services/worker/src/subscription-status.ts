/**
 * The worker's changes to a Subscription's status (handshake -> active | error, failures -> error, recovery -> active,
 * 410 -> off), written through a repository with full access so they are versioned and appear in history like any
 * other change. Optimistic: each write carries If-Match, and a concurrent change by the client wins.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Subscription } from '@medplum/fhirtypes';
import type { Repository } from '@carecircle/store';
import { outcomeStatus } from '@carecircle/fhir';

type Status = Subscription['status'];

/**
 * Sets the status of Subscription `id` to `status` unless it already has it. When `onlyFrom` is given, changes it only
 * from one of those statuses (so a subscription the client turned off is never revived). Returns the stored
 * Subscription, or undefined when it is gone or was not changed.
 */
export async function setSubscriptionStatus(
  repository: Repository,
  id: string,
  status: Status,
  onlyFrom?: readonly Status[],
): Promise<Subscription | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await readSubscription(repository, id);
    if (!current || current.status === status || (onlyFrom && !onlyFrom.includes(current.status))) {
      return undefined;
    }
    try {
      const { resource } = await repository.update<Subscription>(
        { ...current, status },
        { ifMatch: current.meta?.versionId ?? '0' },
      );
      return resource;
    } catch (err) {
      if (err instanceof OperationOutcomeError && outcomeStatus(err.outcome) === 412) {
        continue;
      }
      throw err;
    }
  }
  return undefined;
}

/** The current Subscription, or undefined when it is absent or deleted. */
export async function readSubscription(repository: Repository, id: string): Promise<Subscription | undefined> {
  try {
    return await repository.read<Subscription>('Subscription', id);
  } catch (err) {
    if (err instanceof OperationOutcomeError && [404, 410].includes(outcomeStatus(err.outcome))) {
      return undefined;
    }
    throw err;
  }
}
