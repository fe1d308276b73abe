/**
 * Care plans keep their history with Provenance: a repository decorator that, for every create, update or patch of a
 * CarePlan, Goal or CareTeam, and of a progress report on a care plan (a Communication `about` a CarePlan, as partners
 * write them), records who made the new version in the same transaction. Handed to requests in place of the plain
 * repository, so REST calls, batch and transaction entries are all covered.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Repository } from '@carecircle/store';
import { referenceTo } from './current-resources';
import { referencesOf } from './element-shapes';
import { recordProvenance, type ProvenanceAgentReference } from './provenance-record';

/** The resource types whose every change is recorded with a Provenance. */
export const PROVENANCED_TYPES: ReadonlySet<string> = new Set(['CarePlan', 'Goal', 'CareTeam']);

/** True when a change to `resource` is recorded with a Provenance: a care-plan resource, or progress on a care plan. */
export function isProvenanced(resource: Resource): boolean {
  if (PROVENANCED_TYPES.has(resource.resourceType)) {
    return true;
  }
  return resource.resourceType === 'Communication' && referencesOf(resource.about).some((about) => referenceTo(about, 'CarePlan') !== undefined);
}

/** `repository`, recording a Provenance by `agent` with every change to a care-plan resource or progress report. */
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
      if (!isProvenanced(resource)) {
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
      if (!isProvenanced(resource)) {
        return repository.update(resource, options);
      }
      return repository.transaction(async (tx) => {
        const outcome = await tx.update(resource, options);
        await record(tx, outcome.resource, outcome.outcome === 'created' ? 'CREATE' : 'UPDATE');
        return outcome;
      });
    },
    patch<T extends Resource = Resource>(type: string, id: string, operations: Parameters<Repository['patch']>[2], options?: Parameters<Repository['patch']>[3]) {
      if (!PROVENANCED_TYPES.has(type) && type !== 'Communication') {
        return repository.patch<T>(type, id, operations, options);
      }
      return repository.transaction(async (tx) => {
        const patched = await tx.patch<T>(type, id, operations, options);
        if (isProvenanced(patched)) {
          await record(tx, patched, 'UPDATE');
        }
        return patched;
      });
    },
    transaction: (fn) => repository.transaction((tx) => fn(withCarePlanProvenance(tx, agent))),
  };
}
