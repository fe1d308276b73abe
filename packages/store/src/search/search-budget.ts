/**
 * The search work one request may ask for across all the searches it runs. A batch or transaction Bundle runs a search
 * for every search entry, conditional create and conditional reference, each within the limits of one search
 * (search-request.ts); the budget bounds their sum, so one request cannot queue up minutes of searching. The API opens
 * a budget for each HTTP request with {@link withSearchBudget}; searches outside one (jobs, start-up) draw on none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { OperationOutcomeError, tooCostly } from '@carecircle/fhir';

/** What a search costs: its alternative values in all parameters, and how many of them are `:contains` patterns. */
export interface SearchCost {
  alternatives: number;
  contains: number;
}

/** Alternatives one request's searches may hold together: 25 searches at the per-search limit of 200. */
export const MAX_REQUEST_ALTERNATIVES = 5000;
/** `:contains` alternatives one request's searches may hold together: 5 searches at the per-search limit of 20. */
export const MAX_REQUEST_CONTAINS = 100;

/** What the current request's searches have spent so far. */
const spentByRequest = new AsyncLocalStorage<SearchCost>();

/** Runs `fn` (and everything it starts) with a fresh search budget. */
export function withSearchBudget<T>(fn: () => T): T {
  return spentByRequest.run({ alternatives: 0, contains: 0 }, fn);
}

/**
 * Charges a search's cost to the current request's budget; a 400 (issue too-costly) when the request's searches would
 * exceed it, and nothing is charged then. Outside a budget, a no-op.
 */
export function chargeSearchBudget(cost: SearchCost): void {
  const spent = spentByRequest.getStore();
  if (!spent) {
    return;
  }
  if (spent.alternatives + cost.alternatives > MAX_REQUEST_ALTERNATIVES) {
    throw new OperationOutcomeError(
      tooCostly(`The searches of one request may hold at most ${MAX_REQUEST_ALTERNATIVES} alternative values together`),
    );
  }
  if (spent.contains + cost.contains > MAX_REQUEST_CONTAINS) {
    throw new OperationOutcomeError(
      tooCostly(`The searches of one request may hold at most ${MAX_REQUEST_CONTAINS} :contains values together`),
    );
  }
  spent.alternatives += cost.alternatives;
  spent.contains += cost.contains;
}
