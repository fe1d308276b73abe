/**
 * A delivery gate for the worker's tests, where consent is not the subject: it lets every change through (the version
 * the event is about, read with full access) except the ids a test lists. The consent-based gate itself is tested in
 * @carecircle/access and end to end under test/.
 */
import type { DeliveryGate } from '@carecircle/notify';
import type { Repository } from '@carecircle/store';

export interface TestGateLists {
  /** `Type/id` withheld at delivery. */
  denied?: ReadonlySet<string>;
  /** `Type/id` the subscriber cannot see at matching (never numbered). */
  unseen?: ReadonlySet<string>;
}

/** A gate reading through `repository` (full access), refusing what `lists` name. */
export function createTestGate(repository: Repository, lists: TestGateLists = {}): DeliveryGate {
  return {
    async canSee(_subscription, focus, passes) {
      if (lists.unseen?.has(`${focus.resourceType}/${focus.id}`)) {
        return false;
      }
      return passes ? passes(await repository.vread(focus.resourceType, focus.id, String(focus.versionId))) : true;
    },
    async release(_subscription, focus) {
      if (lists.denied?.has(`${focus.resourceType}/${focus.id}`)) {
        return { kind: 'withhold' };
      }
      return { kind: 'deliver', resource: await repository.vread(focus.resourceType, focus.id, String(focus.versionId)) };
    },
  };
}
