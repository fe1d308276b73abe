/**
 * The operator's view of the notification dead-letter queue: `GET /admin/dead-letters` lists what used up its retries
 * (ids, numbers, times, last status and reason; offset paging), `POST /admin/dead-letters/{id}/replay` queues one for
 * another attempt by the worker, whose delivery gate still decides whether the subscriber may have it. Plain async
 * functions over the queue handle (`@carecircle/notify`'s dead-letters.ts); routes.ts adapts them to Express. While
 * Redis does not answer, both are 503 (nothing queued, nothing audited).
 */
import { queueUnavailable } from '@carecircle/fhir';
import { parseDeliveryJobId } from '@carecircle/notify';
import type { DeadLetters } from '@carecircle/notify';
import { badRequest, notFound, OperationOutcomeError } from '@medplum/core';
import type { AppServices } from '../app-services';
import { recordAdminAction } from './admin-audit';

const DEFAULT_COUNT = 50;
const MAX_COUNT = 200;
const MAX_OFFSET = 1_000_000;
const LIST_PARAMETERS = new Set(['offset', 'count']);

/** `work` on the queues; a failure while Redis is not connected is a 503, anything else goes to the error handler. */
async function onQueues<T>(deps: Pick<AppServices, 'redis'>, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof OperationOutcomeError) && deps.redis.status !== 'ready') {
      throw new OperationOutcomeError(queueUnavailable());
    }
    throw err;
  }
}

/** A non-negative integer query parameter within `max`, or 400 naming it. */
function integerParameter(query: Record<string, unknown>, name: string, fallback: number, min: number, max: number): number {
  const value = query[name];
  if (value === undefined) {
    return fallback;
  }
  if (typeof value !== 'string' || !/^\d{1,7}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new OperationOutcomeError(badRequest(`${name} must be a whole number from ${min} to ${max}`, name));
  }
  return Number(value);
}

/**
 * GET /admin/dead-letters?offset=&count= (count 1..200, default 50): `{"total", "offset", "count", "deadLetters",
 * "next"}`, `next` the path of the following page while there is one. Unknown or repeated parameters are 400.
 */
export async function listDeadLettersHandler(
  deps: Pick<AppServices, 'redis'>,
  deadLetters: DeadLetters,
  query: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const unknown = Object.keys(query).find((name) => !LIST_PARAMETERS.has(name));
  if (unknown !== undefined) {
    throw new OperationOutcomeError(badRequest(`Unknown parameter: ${unknown.slice(0, 64)} (offset and count are known)`, unknown.slice(0, 64)));
  }
  const offset = integerParameter(query, 'offset', 0, 0, MAX_OFFSET);
  const count = integerParameter(query, 'count', DEFAULT_COUNT, 1, MAX_COUNT);
  const page = await onQueues(deps, () => deadLetters.list(offset, count));
  const more = offset + page.deadLetters.length < page.total && page.deadLetters.length > 0;
  return {
    total: page.total,
    offset,
    count,
    deadLetters: page.deadLetters,
    ...(more ? { next: `/admin/dead-letters?offset=${offset + page.deadLetters.length}&count=${count}` } : {}),
  };
}

/**
 * POST /admin/dead-letters/{id}/replay -> 202 `{"id", "subscriptionId", "eventNumber", "status": "queued"}`; 404 for an
 * id that is not on the dead-letter queue. Audited (`dead-letter-replay`) in a transaction that commits only once the
 * replay is queued.
 */
export async function replayDeadLetterHandler(
  deps: Pick<AppServices, 'db' | 'config' | 'redis'>,
  deadLetters: DeadLetters,
  id: string,
  requestId: string,
): Promise<Record<string, unknown>> {
  if (!parseDeliveryJobId(id)) {
    throw new OperationOutcomeError(notFound);
  }
  const replayed = await onQueues(deps, () => deps.db.transaction(async (tx) => {
    await recordAdminAction(deps, tx, requestId, 'dead-letter-replay', [{ kind: 'deadLetter', id }]);
    const deadLetter = await deadLetters.replay(id, requestId);
    if (!deadLetter) {
      throw new OperationOutcomeError(notFound);
    }
    return deadLetter;
  }));
  return { id: replayed.id, subscriptionId: replayed.subscriptionId, eventNumber: replayed.eventNumber, status: 'queued' };
}
