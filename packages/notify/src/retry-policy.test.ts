import {
  DEAD_LETTER_REPLAY_JOB_RETRY,
  DELIVERY_JOB_RETRY,
  HANDSHAKE_JOB_RETRY,
  jobRetryOptions,
  OUTBOX_EVENT_JOB_RETRY,
  REFERRAL_REMINDER_JOB_RETRY,
  type JobRetryPolicy,
} from './retry-policy';

/** Seconds BullMQ waits in all between a job's first and last attempt (exponential: delay * 2^(n-1) after failure n). */
function totalWaitSeconds(policy: JobRetryPolicy): number {
  let ms = 0;
  for (let failed = 1; failed < policy.attempts; failed++) {
    ms += policy.backoff ? policy.backoff.delay * 2 ** (failed - 1) : 0;
  }
  return ms / 1000;
}

test('each job retry policy waits as long in all as its comment says', () => {
  expect(totalWaitSeconds(OUTBOX_EVENT_JOB_RETRY)).toBe(255.5);
  expect(totalWaitSeconds(DELIVERY_JOB_RETRY)).toBe(2 ** 19 - 1);
  expect(totalWaitSeconds(HANDSHAKE_JOB_RETRY)).toBe(15);
  expect(totalWaitSeconds(DEAD_LETTER_REPLAY_JOB_RETRY)).toBe(15);
  expect(totalWaitSeconds(REFERRAL_REMINDER_JOB_RETRY)).toBe(0);
});

test('a policy becomes the BullMQ job options the queues used inline before', () => {
  expect(jobRetryOptions(OUTBOX_EVENT_JOB_RETRY)).toEqual({ attempts: 10, backoff: { type: 'exponential', delay: 500 } });
  expect(jobRetryOptions(DELIVERY_JOB_RETRY)).toEqual({ attempts: 20, backoff: { type: 'exponential', delay: 1000 } });
  expect(jobRetryOptions(HANDSHAKE_JOB_RETRY)).toEqual({ attempts: 5, backoff: { type: 'exponential', delay: 1000 } });
  expect(jobRetryOptions(REFERRAL_REMINDER_JOB_RETRY)).toEqual({ attempts: 5 });
});
