/**
 * Which state change of a coordinated update is underway. A coordinated update changes state only through its
 * operations ($submit, $withdraw, $approve, $decline: update-workflow.ts); each runs its write inside
 * {@link duringTransition}, and the write rule (update-write-rule.ts) lets a write change the state only when the
 * transition underway names that update, the state it is in and the one it moves to. A PUT, PATCH or batch entry runs
 * outside any transition, so it can only create or edit a draft.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { UpdateState } from '@carecircle/consent';

/** A state change of one update: its id, the state it is in, the state it moves to. */
export interface UpdateTransition {
  id: string;
  from: UpdateState;
  to: UpdateState;
}

const underway = new AsyncLocalStorage<UpdateTransition>();

/** Runs `write` as `transition`: the writes of that update inside it may move it from `from` to `to`. */
export function duringTransition<T>(transition: UpdateTransition, write: () => Promise<T>): Promise<T> {
  return underway.run(transition, write);
}

/** The transition underway, if any. */
export function transitionUnderway(): UpdateTransition | undefined {
  return underway.getStore();
}
