/**
 * Our implementation guide at run time. {@link loadFhirDefinitions} loads the base R4 definitions and then every
 * conformance resource in the repository's fhir-profiles/ folder: it checks each file, builds each profile's snapshot
 * (profile-snapshot.ts) and indexes the profiles in @medplum/core so validation can use them. The getters below serve
 * the same resources read-only to the API (/fhir/R4/StructureDefinition/{id}, /CodeSystem/{id}, /ValueSet/{id},
 * /OperationDefinition/{id}: the definitions the CapabilityStatement's operations name) and
 * to terminology checks. The resources are frozen: they are shared by every request.
 */
import { indexSearchParameter, loadDataType, validateResource } from '@medplum/core';
import type { CodeSystem, CodeSystemConcept, OperationDefinition, Resource, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CARECIRCLE_CANONICAL_BASE, IMPORTED_CANONICAL_BASES, SHARE_CATEGORY_SYSTEM } from './canonical-urls';
import { loadBaseDefinitions } from './definitions';
import { generateSnapshot } from './profile-snapshot';

/** The kinds of resource fhir-profiles/ may hold. Another kind needs its own loading rules here first. */
export const CONFORMANCE_RESOURCE_TYPES = ['CodeSystem', 'ValueSet', 'StructureDefinition', 'OperationDefinition', 'SearchParameter'] as const;

/** A resource of our implementation guide. */
export type ConformanceResource = CodeSystem | ValueSet | StructureDefinition | OperationDefinition | SearchParameter;

/** The folder name, at the repository root, that holds the implementation guide. */
const PROFILES_FOLDER = 'fhir-profiles';

interface ConformanceIndex {
  readonly resources: readonly ConformanceResource[];
  readonly byTypeAndId: ReadonlyMap<string, ConformanceResource>;
  readonly byUrl: ReadonlyMap<string, ConformanceResource>;
}

let index: ConformanceIndex | undefined;

/**
 * Loads the base R4 definitions and our implementation guide into @medplum/core's global schema; idempotent and cheap
 * after the first call. Everything that validates, indexes or searches calls it first. Throws an Error naming the file
 * when fhir-profiles/ holds something invalid, so a broken guide stops the process at start-up.
 */
export function loadFhirDefinitions(): void {
  if (index) {
    return;
  }
  const baseDefinitions = loadBaseDefinitions();
  const resources = readConformanceFolder(locateProfilesFolder()).map(({ file, resource }) => {
    if (resource.resourceType === 'SearchParameter') {
      // Our own parameters (Task `ack-due`, `follow-up` ...) join HL7's in the global schema the store indexes.
      indexSearchParameter(resource);
      return resource;
    }
    if (resource.resourceType !== 'StructureDefinition') {
      return resource;
    }
    const base = resource.baseDefinition ? baseDefinitions.get(resource.baseDefinition) : undefined;
    if (!base) {
      throw new Error(`${file}: base definition ${resource.baseDefinition ?? '(none)'} is not an R4 definition`);
    }
    const profile = generateSnapshot(resource, base);
    loadDataType(profile);
    return profile;
  });
  index = buildIndex(resources.map(deepFreeze));
}

/** Every resource of our implementation guide (CodeSystems, ValueSets, StructureDefinitions with snapshots). */
export function getConformanceResources(): ConformanceResource[] {
  return [...loadedIndex().resources];
}

/** The conformance resource with this type and id, or undefined. */
export function getConformanceResource(type: string, id: string): ConformanceResource | undefined {
  return loadedIndex().byTypeAndId.get(`${type}/${id}`);
}

/**
 * The conformance resource with this canonical URL, or undefined. A versioned canonical (`url|version`) matches only
 * when the version is the one we hold.
 */
export function findConformanceResourceByUrl(canonical: string): ConformanceResource | undefined {
  const [url = '', version] = canonical.split('|');
  const resource = loadedIndex().byUrl.get(url);
  return resource && (version === undefined || version === resource.version) ? resource : undefined;
}

/** The codes of the share-category CodeSystem, in their defined order. */
export function getShareCategoryCodes(): string[] {
  const codeSystem = findConformanceResourceByUrl(SHARE_CATEGORY_SYSTEM);
  if (codeSystem?.resourceType !== 'CodeSystem') {
    throw new Error(`${PROFILES_FOLDER}/ lacks the CodeSystem ${SHARE_CATEGORY_SYSTEM}`);
  }
  return flattenCodes(codeSystem.concept ?? []);
}

function flattenCodes(concepts: readonly CodeSystemConcept[]): string[] {
  return concepts.flatMap((c) => [...(c.code ? [c.code] : []), ...flattenCodes(c.concept ?? [])]);
}

function loadedIndex(): ConformanceIndex {
  loadFhirDefinitions();
  if (!index) {
    throw new Error('FHIR definitions failed to load');
  }
  return index;
}

/**
 * Finds fhir-profiles/ by walking up from this module, so it works from source (tsx, Jest) and from a build output
 * alike, wherever the repository is checked out.
 */
function locateProfilesFolder(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = path.join(dir, PROFILES_FOLDER);
    if (existsSync(candidate) && statSync(candidate).isDirectory()) {
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new Error(`No ${PROFILES_FOLDER}/ folder found above ${__dirname}`);
    }
    dir = parent;
  }
}

interface ConformanceFile {
  file: string;
  resource: ConformanceResource;
}

/** Reads and checks every JSON file of the folder: a known type, R4-valid, named `{type}-{id}.json`, our canonical. */
function readConformanceFolder(folder: string): ConformanceFile[] {
  const files = readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort();
  return files.map((name) => {
    const file = `${PROFILES_FOLDER}/${name}`;
    const resource = JSON.parse(readFileSync(path.join(folder, name), 'utf8')) as Resource;
    if (!isConformanceResource(resource)) {
      throw new Error(`${file}: resourceType must be one of ${CONFORMANCE_RESOURCE_TYPES.join(', ')}`);
    }
    const expectedName = `${resource.resourceType}-${resource.id ?? ''}.json`;
    if (name !== expectedName) {
      throw new Error(`${file}: the file must be named ${expectedName}`);
    }
    const expectedUrl = `${canonicalBaseOf(resource.id ?? '')}/${resource.resourceType}/${resource.id ?? ''}`;
    if (resource.url !== expectedUrl) {
      throw new Error(`${file}: url must be ${expectedUrl}`);
    }
    try {
      validateResource(resource);
    } catch (err) {
      throw new Error(`${file}: not a valid R4 ${resource.resourceType}: ${describeError(err)}`, { cause: err });
    }
    return { file, resource };
  });
}

/** Ours, or the guide's whose profile we hold under its canonical URL (IMPORTED_CANONICAL_BASES). */
function canonicalBaseOf(id: string): string {
  const imported = [...IMPORTED_CANONICAL_BASES].find(([prefix]) => id.startsWith(prefix));
  return imported ? imported[1] : CARECIRCLE_CANONICAL_BASE;
}

function isConformanceResource(resource: Resource): resource is ConformanceResource {
  return (CONFORMANCE_RESOURCE_TYPES as readonly string[]).includes(resource.resourceType);
}

function describeError(err: unknown): string {
  if (err && typeof err === 'object' && 'outcome' in err) {
    return JSON.stringify((err as { outcome: unknown }).outcome);
  }
  return err instanceof Error ? err.message : String(err);
}

function buildIndex(resources: readonly ConformanceResource[]): ConformanceIndex {
  const byTypeAndId = new Map<string, ConformanceResource>();
  const byUrl = new Map<string, ConformanceResource>();
  for (const resource of resources) {
    // File names and urls are checked against the id, so a duplicate here means two files claim one resource.
    const key = `${resource.resourceType}/${resource.id ?? ''}`;
    if (byTypeAndId.has(key) || byUrl.has(resource.url ?? '')) {
      throw new Error(`${PROFILES_FOLDER}/ holds ${key} twice`);
    }
    byTypeAndId.set(key, resource);
    byUrl.set(resource.url ?? '', resource);
  }
  return { resources, byTypeAndId, byUrl };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
  }
  return value;
}
