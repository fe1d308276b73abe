/**
 * What an operation handler gets: the caller's repository (already bound to what the caller may see), who the caller
 * is and why they ask, and ways to look at the data as a given recipient would see it (for explanations and previews).
 */
import type { Caller } from '@carecircle/auth';
import type { Recipient } from '@carecircle/consent';
import type { Repository } from '@carecircle/store';
import type { Resource } from '@medplum/fhirtypes';

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
}

/** An operation on one resource instance: `GET [type]/[id]/$name?params`. */
export type InstanceOperation = (context: OperationContext, id: string, params: URLSearchParams) => Promise<Resource>;
