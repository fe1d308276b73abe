/**
 * The operations of a coordinated update (DESIGN.md, "Coordinated updates"), each `POST Composition/{id}/$name` with a
 * Parameters body (none for `$submit` and `$withdraw`), answering the Composition as it now stands. The practice
 * submits and withdraws; only the client approves (`signature-name`, `statement`) or declines (`reason`). The rules
 * are @carecircle/care's (coordinated-update/update-workflow.ts); this file only names the operations and their
 * parameters.
 */
import { approveUpdate, declineUpdate, submitUpdate, withdrawUpdate } from '@carecircle/care';
import { defineOperation } from './operation-definition';

export const COMPOSITION_SUBMIT = defineOperation({
  resourceType: 'Composition',
  name: 'submit',
  level: 'instance',
  method: 'POST',
  parameters: {},
  invoke: (context, _args, id) => submitUpdate(context.coordinatedUpdates(), id),
});

export const COMPOSITION_WITHDRAW = defineOperation({
  resourceType: 'Composition',
  name: 'withdraw',
  level: 'instance',
  method: 'POST',
  parameters: {},
  invoke: (context, _args, id) => withdrawUpdate(context.coordinatedUpdates(), id),
});

export const COMPOSITION_APPROVE = defineOperation({
  resourceType: 'Composition',
  name: 'approve',
  level: 'instance',
  method: 'POST',
  parameters: { 'signature-name': { type: 'string' }, statement: { type: 'string' } },
  invoke: (context, args, id) => approveUpdate(context.coordinatedUpdates(), id, { signatureName: args['signature-name'], statement: args.statement }),
});

export const COMPOSITION_DECLINE = defineOperation({
  resourceType: 'Composition',
  name: 'decline',
  level: 'instance',
  method: 'POST',
  parameters: { reason: { type: 'string' } },
  invoke: (context, args, id) => declineUpdate(context.coordinatedUpdates(), id, { reason: args.reason }),
});
