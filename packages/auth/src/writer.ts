/**
 * Who makes a write, as every stage of the write pipeline is handed it (store's write-pipeline.ts, access's
 * write-pipeline.ts): the caller and the access policy that what the write names is judged by. Always explicit, never
 * read from the request context: a write without a writer is a programming error, not full access.
 */
import { fullAccess, type AccessPolicy } from '@carecircle/store';
import type { Caller } from './caller';

export interface Writer {
  /** Who writes: whose side of a referral Task it is on, whose records it may make. */
  readonly caller: Caller;
  /** What the writer may see: a resource the write names counts only when this policy shows it. */
  readonly policy: AccessPolicy;
}

/**
 * The server itself, writing for its own jobs (the worker's steps, migrations): it acts with the operator's rights,
 * on both sides of every referral Task.
 */
export const SERVER_CALLER: Caller = Object.freeze({ kind: 'admin' });

/** The writer of the server's own jobs: {@link SERVER_CALLER}, seeing everything. */
export const SERVER_WRITER: Writer = Object.freeze({ caller: SERVER_CALLER, policy: fullAccess });
