/**
 * The generation of what decides whether access tokens' holders are enabled, in this process: bumped by every store
 * function that writes those tables (after its statement) and by the `token_holders` notification, so remembered
 * answers (token-holder-cache.ts) from before a change are never used after it. Process-wide: a change made through
 * any database handle of the process counts.
 */
let generation = 0;

/** A table deciding token holders changed: forget every remembered answer. */
export function tokenHoldersChanged(): void {
  generation++;
}

/** The current generation (compare before and after asking the database). */
export function tokenHolderGeneration(): number {
  return generation;
}
