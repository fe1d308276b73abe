/**
 * One search budget per FHIR request: every search the request runs (a GET search, a conditional create, and each
 * search entry, conditional create and conditional reference of a batch or transaction Bundle) draws on it, so one
 * request cannot ask for more than a bounded amount of searching in all (limits in @carecircle/store search-budget.ts).
 */
import { withSearchBudget } from '@carecircle/store';
import type { NextFunction, Request, Response } from 'express';

/** Middleware factory: runs the rest of the request inside a fresh search budget. */
export function searchBudget() {
  return function openSearchBudget(_req: Request, _res: Response, next: NextFunction): void {
    withSearchBudget(next);
  };
}
