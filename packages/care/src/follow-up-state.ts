/**
 * Where a referral's follow-up stands, in Task.businessStatus (contract, DESIGN.md "Referral follow-through"): CodeSystem
 * `https://carecircle.dev/fhir/CodeSystem/referral-follow-up` (fhir-profiles/), one of
 *
 *   on-time    created, nothing sent yet
 *   reminded   the owner was reminded before the acknowledgement deadline
 *   escalated  the deadline passed unanswered: the owner's organization and the requester were told
 *   expired    still unanswered after the further period: the Task is failed
 *
 * The server sets them (the referral's creation, then the worker's steps, referral-follow-up.ts), in that order only,
 * so `Task?follow-up=escalated` finds the referrals that need a person.
 */
import type { CodeableConcept, Task } from '@medplum/fhirtypes';
import { CARECIRCLE_CANONICAL_BASE } from '@carecircle/fhir';

export const FOLLOW_UP_SYSTEM = `${CARECIRCLE_CANONICAL_BASE}/CodeSystem/referral-follow-up`;

/** The follow-up states in the order they happen. */
export const FOLLOW_UP_STATES = ['on-time', 'reminded', 'escalated', 'expired'] as const;
export type FollowUpState = (typeof FOLLOW_UP_STATES)[number];

const DISPLAY: Record<FollowUpState, string> = {
  'on-time': 'On time',
  reminded: 'Reminded',
  escalated: 'Escalated',
  expired: 'Expired',
};

/** The businessStatus of state `state`. */
export function followUpConcept(state: FollowUpState): CodeableConcept {
  return { coding: [{ system: FOLLOW_UP_SYSTEM, code: state, display: DISPLAY[state] }], text: DISPLAY[state] };
}

/**
 * `concept` (a Task's businessStatus) with its follow-up coding set to `state`: other codings (BSeR's finer states,
 * say) are kept; the text becomes the state's when it was the previous state's or absent.
 */
export function withFollowUpState(concept: CodeableConcept | undefined, state: FollowUpState): CodeableConcept {
  const fresh = followUpConcept(state);
  const others = (concept?.coding ?? []).filter((c) => c.system !== FOLLOW_UP_SYSTEM);
  const previous = concept?.coding?.find((c) => c.system === FOLLOW_UP_SYSTEM)?.display;
  const keepText = concept?.text !== undefined && concept.text !== previous;
  return { coding: [...(fresh.coding ?? []), ...others], text: keepText ? concept?.text : fresh.text };
}

/** The follow-up state `task` records; `on-time` when it records none (a Task from before follow-up existed). */
export function followUpStateOf(task: Pick<Task, 'businessStatus'>): FollowUpState {
  const code = task.businessStatus?.coding?.find((c) => c.system === FOLLOW_UP_SYSTEM)?.code;
  return (FOLLOW_UP_STATES as readonly string[]).includes(code ?? '') ? (code as FollowUpState) : 'on-time';
}

/** True when state `a` comes after state `b`. */
export function isLaterState(a: FollowUpState, b: FollowUpState): boolean {
  return FOLLOW_UP_STATES.indexOf(a) > FOLLOW_UP_STATES.indexOf(b);
}
