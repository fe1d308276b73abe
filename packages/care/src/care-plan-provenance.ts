/**
 * Care plans keep their history with Provenance: a record stage of the write pipeline (access's write-pipeline.ts)
 * that, for every create, update or patch of a CarePlan, Goal or CareTeam, and of a progress report on a care plan (a
 * Communication `about` a CarePlan, as partners write them), records who made the new version in the same
 * transaction. Every repository a caller gets runs it, so REST calls, batch and transaction entries are all covered.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { Writer } from '@carecircle/auth';
import type { WriteRecord } from '@carecircle/store';
import { referenceTo } from './current-resources';
import { referencesOf } from './element-shapes';
import { callerAgent, recordProvenance } from './provenance-record';

/** The resource types whose every change is recorded with a Provenance. */
export const PROVENANCED_TYPES: ReadonlySet<string> = new Set(['CarePlan', 'Goal', 'CareTeam']);

/** True when a change to `resource` is recorded with a Provenance: a care-plan resource, or progress on a care plan. */
export function isProvenanced(resource: Resource): boolean {
  if (PROVENANCED_TYPES.has(resource.resourceType)) {
    return true;
  }
  return resource.resourceType === 'Communication' && referencesOf(resource.about).some((about) => referenceTo(about, 'CarePlan') !== undefined);
}

/** Records a Provenance by `writer` of every change to a care-plan resource or progress report, through the write's repository. */
export const recordCarePlanProvenance: WriteRecord<Writer> = {
  appliesTo: isProvenanced,
  record: async ({ written, kind, repository }, writer) => {
    await recordProvenance(repository, written, kind === 'create' ? 'CREATE' : 'UPDATE', callerAgent(writer.caller));
  },
};
