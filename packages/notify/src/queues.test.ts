import { deliveryJobSchema, handshakeJobSchema, jobOriginSchema, outboxEventJobSchema, referralReminderJobSchema } from './queues';

test('jobs made for a write keep its request id; a job without one is still valid', () => {
  const requestId = 'req-0123456789';
  expect(deliveryJobSchema.parse({ subscriptionId: 's1', eventNumber: 2, requestId })).toEqual({ subscriptionId: 's1', eventNumber: 2, requestId });
  expect(handshakeJobSchema.parse({ subscriptionId: 's1', versionId: 1, requestId }).requestId).toBe(requestId);
  expect(referralReminderJobSchema.parse({ taskId: 't1', requestId }).requestId).toBe(requestId);
  expect(referralReminderJobSchema.parse({ taskId: 't1' })).toEqual({ taskId: 't1' });
  expect(outboxEventJobSchema.shape.requestId).toBe(jobOriginSchema.shape.requestId);
});

test('a request id is an opaque token: anything else (a name, an address, spaces) is refused', () => {
  expect(jobOriginSchema.safeParse({ requestId: 'Jane Doe' }).success).toBe(false);
  expect(jobOriginSchema.safeParse({ requestId: 'jane@example.org' }).success).toBe(false);
  expect(jobOriginSchema.safeParse({ requestId: 'x'.repeat(129) }).success).toBe(false);
});
