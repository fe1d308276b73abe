/**
 * How partners follow through on referrals (DESIGN.md, "Referral follow-through", `Task/$referral-metrics`): per
 * partner organization, how long acknowledgement (accept or reject) and completion took, as a median and 90th
 * percentile in hours, and the share of referrals acknowledged late (or not at all by their deadline). Pure: the API's
 * operation reads the Tasks and their histories through the caller's repository and hands them here.
 *
 * From a Task's versions, oldest first: sent at `authoredOn` (else the first version's lastUpdated); acknowledged at
 * the first version whose status is accepted, rejected, in-progress, on-hold, completed or failed by the owner (an
 * expiry, businessStatus `expired`, is no acknowledgement); completed at the first `completed` version. Overdue: the
 * acknowledgement came after `restriction.period.end`, or has not come and the deadline has passed. Hours are wall-clock
 * hours. Percentiles by nearest rank (the smallest value with at least that share of values at or below it); the
 * median of an even count is the mean of the middle two.
 */
import type { Task } from '@medplum/fhirtypes';
import { acknowledgementDeadline } from './referral-follow-up';
import { followUpStateOf } from './follow-up-state';

/** What one referral's history says, for the metrics. */
export interface ReferralTimeline {
  /** The partner organization (Organization/{id}; a practitioner owner without one stands for itself). */
  partner: string;
  sentAt: number;
  acknowledgeBy?: number;
  acknowledgedAt?: number;
  completedAt?: number;
}

const ACKNOWLEDGED: ReadonlySet<string> = new Set(['accepted', 'rejected', 'in-progress', 'on-hold', 'completed', 'failed']);

/** The timeline of a referral from its Task's versions (oldest first), for `partner`. */
export function timelineOf(versions: readonly Task[], partner: string): ReferralTimeline | undefined {
  const first = versions[0];
  const last = versions.at(-1);
  const sentAt = Date.parse(first?.authoredOn ?? first?.meta?.lastUpdated ?? '');
  if (!first || !last || Number.isNaN(sentAt)) {
    return undefined;
  }
  const at = (task: Task) => Date.parse(task.meta?.lastUpdated ?? '');
  const acknowledgement = versions.find((v) => ACKNOWLEDGED.has(v.status) && !(v.status === 'failed' && followUpStateOf(v) === 'expired'));
  const completion = versions.find((v) => v.status === 'completed');
  const deadline = acknowledgementDeadline(first);
  return {
    partner,
    sentAt,
    ...(deadline ? { acknowledgeBy: deadline.getTime() } : {}),
    ...(acknowledgement && !Number.isNaN(at(acknowledgement)) ? { acknowledgedAt: at(acknowledgement) } : {}),
    ...(completion && !Number.isNaN(at(completion)) ? { completedAt: at(completion) } : {}),
  };
}

/** The figures of one partner. */
export interface PartnerMetrics {
  partner: string;
  referrals: number;
  acknowledged: number;
  acknowledgementMedianHours?: number;
  acknowledgementP90Hours?: number;
  completed: number;
  completionMedianHours?: number;
  completionP90Hours?: number;
  overdue: number;
  /** overdue / referrals, 0 to 1. */
  overdueShare: number;
}

/** The metrics of `timelines` per partner, sorted by partner; `now` (epoch ms) decides which open ones are overdue. */
export function referralMetrics(timelines: readonly ReferralTimeline[], now: number): PartnerMetrics[] {
  const byPartner = new Map<string, ReferralTimeline[]>();
  for (const timeline of timelines) {
    byPartner.set(timeline.partner, [...(byPartner.get(timeline.partner) ?? []), timeline]);
  }
  return [...byPartner.keys()].sort().map((partner) => {
    const list = byPartner.get(partner) ?? [];
    const ackHours = list.flatMap((t) => (t.acknowledgedAt === undefined ? [] : [hoursBetween(t.sentAt, t.acknowledgedAt)]));
    const doneHours = list.flatMap((t) => (t.completedAt === undefined ? [] : [hoursBetween(t.sentAt, t.completedAt)]));
    const overdue = list.filter((t) => t.acknowledgeBy !== undefined && (t.acknowledgedAt ?? now) > t.acknowledgeBy).length;
    return {
      partner,
      referrals: list.length,
      acknowledged: ackHours.length,
      ...optional('acknowledgementMedianHours', median(ackHours)),
      ...optional('acknowledgementP90Hours', percentile(ackHours, 0.9)),
      completed: doneHours.length,
      ...optional('completionMedianHours', median(doneHours)),
      ...optional('completionP90Hours', percentile(doneHours, 0.9)),
      overdue,
      overdueShare: list.length === 0 ? 0 : round(overdue / list.length),
    };
  });
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function hoursBetween(from: number, to: number): number {
  return Math.max(0, to - from) / 3_600_000;
}

/** The median of `values` (mean of the middle two for an even count), rounded to 2 decimals; undefined for none. */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return round(value);
}

/** The `share` percentile of `values` by nearest rank, rounded to 2 decimals; undefined for none. */
export function percentile(values: readonly number[], share: number): number | undefined {
  if (values.length === 0) {
    return undefined;
  }
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(share * sorted.length));
  return round(sorted[rank - 1] as number);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
