import { classifyTaskChange, isClosedStatus, isTaskStatus, STATUSES_NEEDING_REASON, TASK_STATUSES, transitionParty } from './referral-task';

describe('the referral Task state machine', () => {
  it('knows the twelve FHIR Task statuses and nothing else', () => {
    expect(TASK_STATUSES).toHaveLength(12);
    expect(TASK_STATUSES.every(isTaskStatus)).toBe(true);
    expect(isTaskStatus('done')).toBe(false);
    expect(isTaskStatus(undefined)).toBe(false);
  });

  it('gives the owner the forward moves and the requester cancellation', () => {
    expect(transitionParty('requested', 'accepted')).toBe('owner');
    expect(transitionParty('on-hold', 'in-progress')).toBe('owner');
    expect(transitionParty('in-progress', 'cancelled')).toBe('requester');
    expect(transitionParty('completed', 'entered-in-error')).toBe('requester');
    expect(transitionParty('requested', 'in-progress')).toBeUndefined();
    expect(transitionParty('completed', 'in-progress')).toBeUndefined();
    expect(transitionParty('entered-in-error', 'requested')).toBeUndefined();
  });

  it('closes rejected, cancelled, failed, completed and entered-in-error', () => {
    expect(TASK_STATUSES.filter((s) => s !== 'draft' && s !== 'ready' && isClosedStatus(s))).toEqual([
      'rejected',
      'cancelled',
      'failed',
      'completed',
      'entered-in-error',
    ]);
  });

  it('needs a reason for rejected, failed and on-hold', () => {
    expect([...STATUSES_NEEDING_REASON].sort()).toEqual(['failed', 'on-hold', 'rejected']);
  });

  it('tells an amendment from a transition', () => {
    expect(classifyTaskChange('accepted', 'accepted')).toEqual({ kind: 'amend', status: 'accepted' });
    expect(classifyTaskChange('accepted', 'requested')).toEqual({ kind: 'transition', from: 'requested', to: 'accepted' });
  });
});
