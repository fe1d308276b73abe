/**
 * Snapshot generation for our profiles. fhir-profiles/ holds each StructureDefinition with a differential only (short,
 * reviewable); @medplum/core validates against a snapshot, so at load time we merge the differential into the base
 * resource's snapshot. Deliberately narrow: constraints on existing elements (cardinality, fixed/pattern values,
 * bindings, type narrowing, invariants, documentation), no slicing and no extensions. Anything else is refused with an
 * error naming the element, so a profile never silently means less than it says.
 */
import type { ElementDefinition, ElementDefinitionType, StructureDefinition } from '@medplum/fhirtypes';

/** Differential properties merged into the base element; anything else in a differential element is refused. */
const DOCUMENTATION_PROPERTIES = ['short', 'definition', 'comment', 'requirements', 'label', 'alias'] as const;
const PRIMITIVE_PROPERTIES = [...DOCUMENTATION_PROPERTIES, 'mustSupport', 'binding'] as const;
const HANDLED_PROPERTIES = new Set<string>(['id', 'path', 'min', 'max', 'type', 'constraint', ...PRIMITIVE_PROPERTIES]);

/**
 * Returns `profile` with a `snapshot` built from `base.snapshot` and `profile.differential`. Throws an Error (a defect
 * in fhir-profiles/, found at start-up) when the differential names an unknown element, loosens the base, or uses a
 * feature this generator does not support.
 */
export function generateSnapshot(profile: StructureDefinition, base: StructureDefinition): StructureDefinition {
  const where = `StructureDefinition ${profile.url ?? profile.id ?? '(no url)'}`;
  if (profile.derivation !== 'constraint') {
    throw new Error(`${where}: only derivation "constraint" is supported`);
  }
  if (profile.baseDefinition !== base.url || profile.type !== base.type) {
    throw new Error(`${where}: base must be ${profile.baseDefinition} of type ${profile.type}, got ${base.url}`);
  }
  const baseElements = base.snapshot?.element;
  if (!baseElements?.length) {
    throw new Error(`${where}: base ${base.url} has no snapshot`);
  }

  const differential = new Map<string, ElementDefinition>();
  for (const element of profile.differential?.element ?? []) {
    const key = elementKey(element);
    if (element.sliceName || key.includes(':')) {
      throw new Error(`${where}: element ${key} is a slice; slicing is not supported`);
    }
    if (differential.has(key)) {
      throw new Error(`${where}: element ${key} appears twice in the differential`);
    }
    differential.set(key, element);
  }

  const element = baseElements.map((baseElement) => {
    const key = elementKey(baseElement);
    const constraint = differential.get(key);
    differential.delete(key);
    return constraint ? mergeElement(baseElement, constraint, profile.url ?? '', `${where}, element ${key}`) : structuredClone(baseElement);
  });
  const [unknown] = differential.keys();
  if (unknown !== undefined) {
    throw new Error(`${where}: differential element ${unknown} is not an element of ${base.url}`);
  }
  return { ...profile, snapshot: { element } };
}

function elementKey(element: ElementDefinition): string {
  const key = element.id ?? element.path;
  if (!key) {
    throw new Error('Element without id or path');
  }
  return key;
}

function mergeElement(
  baseElement: ElementDefinition,
  constraint: ElementDefinition,
  profileUrl: string,
  where: string,
): ElementDefinition {
  if (constraint.path !== undefined && constraint.path !== baseElement.path) {
    throw new Error(`${where}: path ${constraint.path} does not match the base path ${baseElement.path}`);
  }
  for (const property of Object.keys(constraint)) {
    if (!HANDLED_PROPERTIES.has(property) && !isFixedOrPattern(property)) {
      throw new Error(`${where}: "${property}" is not supported in a differential (no slicing, no extensions)`);
    }
  }

  const merged: ElementDefinition = structuredClone(baseElement);
  for (const property of PRIMITIVE_PROPERTIES) {
    if (constraint[property] !== undefined) {
      Object.assign(merged, { [property]: structuredClone(constraint[property]) });
    }
  }
  mergeCardinality(merged, constraint, where);
  if (constraint.type) {
    merged.type = narrowTypes(baseElement.type ?? [], constraint.type, where);
  }
  if (constraint.constraint) {
    const keys = new Set((baseElement.constraint ?? []).map((c) => c.key));
    const added = constraint.constraint.map((c) => {
      if (!c.key || !c.expression || !c.human || keys.has(c.key)) {
        throw new Error(`${where}: constraint ${c.key ?? '(no key)'} needs a new key, an expression and human text`);
      }
      return { ...structuredClone(c), source: profileUrl };
    });
    merged.constraint = [...(baseElement.constraint ?? []), ...added];
  }
  return mergeFixedAndPattern(merged, constraint, where);
}

function mergeCardinality(merged: ElementDefinition, constraint: ElementDefinition, where: string): void {
  const baseMin = merged.min ?? 0;
  const baseMax = parseMax(merged.max ?? '*');
  const min = constraint.min ?? baseMin;
  const max = constraint.max === undefined ? baseMax : parseMax(constraint.max);
  if (min < baseMin || max > baseMax || min > max) {
    throw new Error(`${where}: cardinality ${min}..${constraint.max ?? merged.max} is not within the base ${baseMin}..${merged.max}`);
  }
  merged.min = min;
  if (constraint.max !== undefined) {
    merged.max = constraint.max;
  }
}

function parseMax(max: string): number {
  if (max === '*') {
    return Number.POSITIVE_INFINITY;
  }
  const value = Number(max);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`Invalid max cardinality "${max}"`);
  }
  return value;
}

function isFixedOrPattern(property: string): boolean {
  return /^(fixed|pattern)[A-Z]/.test(property);
}

/** Returns `merged` carrying the differential's fixed[x] or pattern[x] value, if it has one, in place of the base's. */
function mergeFixedAndPattern(merged: ElementDefinition, constraint: ElementDefinition, where: string): ElementDefinition {
  const values = Object.entries(constraint).filter(([property]) => isFixedOrPattern(property));
  const [first, ...more] = values;
  if (!first) {
    return merged;
  }
  if (more.length > 0) {
    throw new Error(`${where}: at most one fixed[x] or pattern[x] value`);
  }
  const [property, value] = first;
  const typeName = property.replace(/^(fixed|pattern)/, '');
  if (!(merged.type ?? []).some((t) => t.code?.toLowerCase() === typeName.toLowerCase())) {
    throw new Error(`${where}: ${property} does not match the element's type`);
  }
  const rest = Object.entries(merged).filter(([p]) => !isFixedOrPattern(p));
  return Object.fromEntries([...rest, [property, structuredClone(value)]]) as ElementDefinition;
}

function narrowTypes(
  baseTypes: readonly ElementDefinitionType[],
  types: readonly ElementDefinitionType[],
  where: string,
): ElementDefinitionType[] {
  return types.map((type) => {
    const baseType = baseTypes.find((t) => t.code === type.code);
    if (!baseType) {
      throw new Error(`${where}: type ${type.code ?? '(no code)'} is not allowed by the base`);
    }
    for (const listName of ['targetProfile', 'profile'] as const) {
      const baseList = baseType[listName];
      const extra = type[listName]?.filter((url) => baseList && !baseList.includes(url));
      if (extra?.length) {
        throw new Error(`${where}: ${listName} ${extra.join(', ')} is not allowed by the base`);
      }
    }
    return { ...structuredClone(baseType), ...structuredClone(type) };
  });
}
