/**
 * What an operation handler gets: capabilities, never the database. The caller's repository (already bound to what the
 * caller may see), who the caller is and why they ask, ways to look at the data as a given recipient would see it (for
 * explanations and previews), and the subscriptions' event log. operation-capabilities.ts builds them for a request.
 */
import type { Caller } from '@carecircle/auth';
import type { UpdateWorkflowContext } from '@carecircle/care';
import type { Recipient } from '@carecircle/consent';
import type { StoredEvent } from '@carecircle/notify';
import type { Repository } from '@carecircle/store';

export interface OperationContext {
  repository: Repository;
  caller: Caller;
  purpose: string;
  baseUrl: string;
  /**
   * Who a recipient reference stands for, resolved as the recipient's own tokens are: an organization; a practitioner
   * once per organization it acts for, with its active roles there; a role as its practitioner at its organization.
   */
  resolveRecipients(reference: string): Promise<Recipient[]>;
  /**
   * A read-only repository showing exactly what any of `recipients` may see now, never more than the caller itself may
   * read (no audit: nothing is disclosed).
   */
  recipientView(recipients: readonly Recipient[], purpose: string): Promise<Repository>;
  /**
   * The caller's repository with its disclosures recorded and its refusals not: for reading what the caller asked
   * about only indirectly (an event's resource), whose refusal is no denial worth a record in a client's trail.
   */
  readerWithoutDenialRecords(): Repository;
  /** The numbered events of subscriptions (read as they are, whoever asks: read the Subscription first). */
  subscriptionEvents: SubscriptionEventLog;
  /** What the coordinated-update operations work with: the caller, its repository and the server's for the writes. */
  coordinatedUpdates(): UpdateWorkflowContext;
}

/** The event log of subscriptions, read-only. */
export interface SubscriptionEventLog {
  /** The number of the subscription's latest event (0 before its first). */
  lastEventNumber(subscriptionId: string): Promise<number>;
  /** Events `since`..`until` (inclusive) in number order, at most `limit`. */
  list(subscriptionId: string, since: number, until: number, limit: number): Promise<StoredEvent[]>;
}
