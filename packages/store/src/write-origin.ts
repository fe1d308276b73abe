/**
 * Where a write comes from: the id of the HTTP request that makes it, carried in AsyncLocalStorage (like the search
 * budget) so every outbox row the request appends records it, without the id being threaded through the repository,
 * the care workflows and Bundle processing. The worker logs it when it relays, matches and delivers the event, so an
 * operator can follow one request from the access log to each notification it caused.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const originRequest = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it starts) as the work of request `requestId`. */
export function withOriginRequestId<T>(requestId: string, fn: () => T): T {
  return originRequest.run(requestId, fn);
}

/** The id of the request the current work belongs to; undefined outside one (jobs, start-up). */
export function currentOriginRequestId(): string | undefined {
  return originRequest.getStore();
}
