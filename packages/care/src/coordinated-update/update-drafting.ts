/**
 * Drafting is recorded: a repository decorator that, for every create, update or patch of a coordinated update (which
 * the write rule holds to drafts), writes the step's Provenance and AuditEvent (`drafted`, `edited`) in the same
 * transaction, through the same repository, as withCarePlanProvenance records care-plan changes; and only a draft is
 * deleted (the write rules do not see deletions): an update once submitted stays on record (422). Handed to requests
 * in place of the plain repository, so REST calls, batch and transaction entries are all covered.
 */
import type { Composition, Resource } from '@medplum/fhirtypes';
import { readOrUndefined } from '@carecircle/fhir';
import type { Repository } from '@carecircle/store';
import { refuseUnprocessable } from '../care-outcomes';
import type { ProvenanceAgentReference } from '../provenance-record';
import { isCoordinatedUpdate, stateOf } from './update-facts';
import { updateAuditEvent, updateProvenance } from './update-records';

/** `repository`, recording who drafted or edited each coordinated update, and when. */
export function withUpdateDraftRecords(repository: Repository, agent: ProvenanceAgentReference): Repository {
  const record = async (tx: Repository, written: Resource) => {
    if (!isCoordinatedUpdate(written)) {
      return;
    }
    const event = written.meta?.versionId === '1' ? 'drafted' : 'edited';
    const now = new Date();
    await tx.create(updateProvenance(written as Composition, event, agent, now));
    await tx.create(updateAuditEvent(written as Composition, event, agent, now));
  };
  return {
    get policy() {
      return repository.policy;
    },
    read: (type, id) => repository.read(type, id),
    vread: (type, id, versionId) => repository.vread(type, id, versionId),
    search: (type, params) => repository.search(type, params),
    history: (type, id, params) => repository.history(type, id, params),
    delete(type, id, options) {
      if (type !== 'Composition') {
        return repository.delete(type, id, options);
      }
      return repository.transaction(async (tx) => {
        const current = await readOrUndefined<Composition>(tx, 'Composition', id);
        if (isCoordinatedUpdate(current) && (stateOf(current) ?? 'draft') !== 'draft') {
          refuseUnprocessable('Only a draft update is deleted: withdraw one awaiting approval ($withdraw); a released, declined or withdrawn one stays on record', 'Composition');
        }
        await tx.delete(type, id, options);
      });
    },
    create(resource, options) {
      if (!isCoordinatedUpdate(resource)) {
        return repository.create(resource, options);
      }
      return repository.transaction(async (tx) => {
        const outcome = await tx.create(resource, options);
        if (outcome.outcome !== 'existing') {
          await record(tx, outcome.resource);
        }
        return outcome;
      });
    },
    update(resource, options) {
      if (resource.resourceType !== 'Composition') {
        return repository.update(resource, options);
      }
      return repository.transaction(async (tx) => {
        const outcome = await tx.update(resource, options);
        await record(tx, outcome.resource);
        return outcome;
      });
    },
    patch<T extends Resource = Resource>(type: string, id: string, operations: Parameters<Repository['patch']>[2], options?: Parameters<Repository['patch']>[3]) {
      if (type !== 'Composition') {
        return repository.patch<T>(type, id, operations, options);
      }
      return repository.transaction(async (tx) => {
        const patched = await tx.patch<T>(type, id, operations, options);
        await record(tx, patched);
        return patched;
      });
    },
    transaction: (fn) => repository.transaction((tx) => fn(withUpdateDraftRecords(tx, agent))),
  };
}
