/**
 * Care plans keep their history with Provenance: a repository decorator that, for every create, update or patch of a
 * CarePlan, Goal or CareTeam, records who made the new version in the same transaction. Handed to requests in place of
 * the plain repository, so REST calls, batch and transaction entries are all covered.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '@carecircle/store';
import { recordProvenance, type ProvenanceAgentReference } from './provenance-record';

/** The resource types whose every change is recorded with a Provenance. */
export const PROVENANCED_TYPES: ReadonlySet<string> = new Set(['CarePlan', 'Goal', 'CareTeam']);

/** `repository`, recording a Provenance by `agent` with every change to a care-plan resource. */
export function withCarePlanProvenance(repository: Repository, agent: ProvenanceAgentReference): Repository {
  const record = async (tx: Repository, resource: Resource, activity: 'CREATE' | 'UPDATE') => {
    await recordProvenance(tx, resource, activity, agent);
  };
  return {
    get policy() {
      return repository.policy;
    },
    read: (type, id) => repository.read(type, id),
    vread: (type, id, versionId) => repository.vread(type, id, versionId),
    search: (type, params) => repository.search(type, params),
    history: (type, id, params) => repository.history(type, id, params),
    delete: (type, id, options) => repository.delete(type, id, options),
    create(resource, options) {
      if (!PROVENANCED_TYPES.has(resource.resourceType)) {
        return repository.create(resource, options);
      }
      return repository.transaction(async (tx) => {
        const outcome = await tx.create(resource, options);
        if (outcome.outcome !== 'existing') {
          await record(tx, outcome.resource, 'CREATE');
        }
        return outcome;
      });
    },
    update(resource, options) {
      if (!PROVENANCED_TYPES.has(resource.resourceType)) {
        return repository.update(resource, options);
      }
      return repository.transaction(async (tx) => {
        const outcome = await tx.update(resource, options);
        await record(tx, outcome.resource, outcome.outcome === 'created' ? 'CREATE' : 'UPDATE');
        return outcome;
      });
    },
    patch<T extends Resource = Resource>(type: string, id: string, operations: Parameters<Repository['patch']>[2], options?: Parameters<Repository['patch']>[3]) {
      if (!PROVENANCED_TYPES.has(type)) {
        return repository.patch<T>(type, id, operations, options);
      }
      return repository.transaction(async (tx) => {
        const patched = await tx.patch<T>(type, id, operations, options);
        await record(tx, patched, 'UPDATE');
        return patched;
      });
    },
    transaction: (fn) => repository.transaction((tx) => fn(withCarePlanProvenance(tx, agent))),
  };
}
