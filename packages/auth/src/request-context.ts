/**
 * The request context: who is calling and the repository bound to them, carried through each request (and each job)
 * in AsyncLocalStorage, so domain code never threads `req` around and nothing lives in module globals.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Repository } from '@carecircle/store';
import type { Caller } from './caller';

export interface RequestContext {
  /** Correlates log lines (and later, audit events) of one request or job. */
  readonly requestId: string;
  readonly caller: Caller;
  /** The repository bound to this caller's access policy: the only way to read or write resources. */
  readonly repository: Repository;
  /** Why the caller asks (v3-ActReason); TREAT when unstated. */
  readonly purpose?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `context` as the current request context. */
export function runWithRequestContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The current request context; throws when called outside one (a programming error). */
export function getRequestContext(): RequestContext {
  const context = storage.getStore();
  if (!context) {
    throw new Error('No request context: this code must run inside runWithRequestContext()');
  }
  return context;
}

/** The current request context, or undefined outside one (start-up code, logs). */
export function tryGetRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
