/**
 * Loading coordinated updates through the public API, as whoever is signed in (the client, or a practitioner of the
 * practice): one update with the records it names (the frozen versions once submitted, each read as the caller, so the
 * caller sees exactly what the API lets it see) and the names of its provider and author; a client's updates; the
 * names of providers. What is not a coordinated update, or not the caller's to see, is the 404 page.
 */
import type { Bundle, Composition, Resource } from '@medplum/fhirtypes';
import { FhirRequestFailed, type FhirApi } from '../../fhir-api';
import { PortalError } from '../../http/portal-error';
import type { Language } from '../../i18n/catalogue';
import { sharingWords } from '../../i18n/sharing';
import { updateWords } from '../../i18n/updates';
import { nameOf } from '../practice/referral-board';
import { isFhirId } from '../sharing/sharing-loader';
import { entryReferences, isCoordinatedUpdate, recipientOf, UPDATE_PROFILE, updateView, type UpdateView } from './update-view';

export type StoredUpdate = Composition & { id: string; meta: { versionId: string } };

export interface LoadedUpdate {
  readonly update: StoredUpdate;
  readonly view: UpdateView;
  readonly recipientName: string;
  readonly authorName: string | undefined;
}

/** The references a record read may use: `Type/id` or `Type/id/_history/n`, nothing else. */
const RECORD_REFERENCE = /^[A-Za-z]{1,64}\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The update `id`, as the caller may see it. */
export async function loadUpdate(api: FhirApi, id: string | undefined, lang: Language): Promise<LoadedUpdate> {
  if (typeof id !== 'string' || !isFhirId(id)) {
    throw new PortalError(404, 'notFound');
  }
  const update = await api.read<Composition>(`/Composition/${id}`);
  if (!isCoordinatedUpdate(update) || !update.id || !update.meta?.versionId) {
    throw new PortalError(404, 'notFound');
  }
  const stored = update as StoredUpdate;
  const references = entryReferences(stored).filter((r) => RECORD_REFERENCE.test(r));
  const people = [recipientOf(stored), stored.author?.[0]?.reference];
  const [records, named] = await Promise.all([readEach(api, references), loadNamed(api, people)]);
  const words = updateWords[lang];
  return {
    update: stored,
    view: updateView(stored, records, sharingWords[lang], words.somethingNotReadable, lang),
    recipientName: nameOf({ reference: recipientOf(stored) }, named) ?? words.someProvider,
    authorName: nameOf(stored.author?.[0], named),
  };
}

/** Each reference read as the caller; one the caller may not read is left out (shown as "cannot be shown"). */
async function readEach(api: FhirApi, references: readonly string[]): Promise<Map<string, Resource>> {
  const read = await Promise.all(
    references.map(async (reference) => {
      try {
        return [reference, await api.read<Resource>(`/${reference}`)] as const;
      } catch (err) {
        if (err instanceof FhirRequestFailed && err.status >= 400 && err.status < 500) {
          return undefined;
        }
        throw err;
      }
    }),
  );
  return new Map(read.filter((r): r is readonly [string, Resource] => r !== undefined));
}

/** Organizations and Practitioners named by `references`, by `Type/id`, in one search per type. */
export async function loadNamed(api: FhirApi, references: readonly (string | undefined)[]): Promise<Map<string, Resource>> {
  const named = new Map<string, Resource>();
  await Promise.all(
    (['Organization', 'Practitioner'] as const).map(async (type) => {
      const ids = [...new Set(references.filter((r): r is string => Boolean(r?.startsWith(`${type}/`))).map((r) => r.slice(type.length + 1)))].filter(isFhirId);
      if (ids.length === 0) {
        return;
      }
      const bundle = await api.search(`/${type}?_id=${ids.join(',')}&_count=${ids.length}`);
      for (const resource of (bundle.entry ?? []).map((e) => e.resource)) {
        if (resource?.id) {
          named.set(`${resource.resourceType}/${resource.id}`, resource);
        }
      }
    }),
  );
  return named;
}

/** A client's coordinated updates, newest first (at most 100), with the names of their providers. */
export async function loadClientUpdates(api: FhirApi, patient: string): Promise<{ updates: StoredUpdate[]; named: Map<string, Resource> }> {
  const bundle: Bundle<Composition> = await api.search<Composition>(
    `/Composition?subject=${encodeURIComponent(patient)}&_profile=${encodeURIComponent(UPDATE_PROFILE)}&_sort=-date&_count=100`,
  );
  const updates = (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((c): c is StoredUpdate => isCoordinatedUpdate(c) && Boolean(c.id));
  const named = await loadNamed(
    api,
    updates.map((u) => recipientOf(u)),
  );
  return { updates, named };
}

/** How many of the client's updates wait for the client's decision (0 when the API cannot say). */
export async function countWaitingUpdates(api: FhirApi, patient: string): Promise<number> {
  try {
    const bundle = await api.search<Composition>(
      `/Composition?subject=${encodeURIComponent(patient)}&update-state=awaiting-approval&_profile=${encodeURIComponent(UPDATE_PROFILE)}&_count=50&_elements=id`,
    );
    return (bundle.entry ?? []).filter((e) => (e.search?.mode ?? 'match') === 'match').length;
  } catch (err) {
    if (err instanceof FhirRequestFailed && err.status >= 400 && err.status < 500) {
      return 0;
    }
    throw err;
  }
}
