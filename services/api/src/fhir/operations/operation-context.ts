/**
 * What an operation handler gets: the caller's repository (already bound to what the caller may see), who the caller
 * is and why they ask, and a way to look at the data as a given recipient would see it (for previews).
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
  /** A read-only repository showing exactly what `recipient` may see now (no audit: nothing is disclosed). */
  recipientView(recipient: Recipient, purpose: string): Promise<Repository>;
}

/** An operation on one resource instance: `GET [type]/[id]/$name?params`. */
export type InstanceOperation = (context: OperationContext, id: string, params: URLSearchParams) => Promise<Resource>;
