/**
 * The R4 rules @medplum/core's validator leaves out, checked on every resource by walking it with the type
 * definitions, so they hold for every element of every type without per-resource code:
 *
 * - data type invariants wherever the type is used (per-1 Period start <= end, cpt-2 ContactPoint value needs a system,
 *   qty-3 Quantity code needs a system, rng-2, ext-1, ref-1 ...): the validator evaluates a type's own invariants only
 *   for the resource at the root, never for a Period or Quantity inside it; contained resources likewise;
 * - ele-1 and JSON's rules for values: no empty strings (`"family": ""`), empty objects or empty arrays;
 * - dom-3: every contained resource is referenced from elsewhere in the resource (or refers to its container);
 * - Reference.reference in a form R4 gives it (relative, absolute http(s), urn:uuid/urn:oid, #fragment), and no
 *   `url` or `uri` a `javascript:` or `vbscript:` URL: nothing a reader's link would run;
 * - txt-1 / txt-2: Narrative.div is allowed, non-empty XHTML (narrative.ts);
 * - text the database can store: no NUL and no unpaired surrogates, in values or keys (storable-text.ts).
 *
 * Every issue names its element as FHIRPath in `expression`. Messages never quote the offending value.
 */
import {
  crawlTypedValue,
  evalFhirPathTyped,
  isResource,
  parseFhirPath,
  toTypedValue,
  UCUM,
  type FhirPathAtom,
  type InternalTypeSchema,
  type TypedValue,
  type TypedValueWithPath,
} from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { checkNarrativeDiv } from './narrative';
import { isLiteralReference } from './references';
import { hasUnstorableCharacters } from './storable-text';

/** Invariants handled here by other means (ele-1, dom-3) or that only restate what the validator checks. */
const SKIPPED_INVARIANTS: ReadonlySet<string> = new Set(['ele-1', 'dom-3']);

const parsedExpressions = new Map<string, FhirPathAtom>();

/**
 * Issues for every rule above that `resource` breaks; empty when it keeps them all. `wellFormed` says the R4 validator
 * found no structural error: the rules that walk the resource by its types only run then (a value of the wrong shape
 * has no type to walk by, and its error is already reported).
 */
export function checkInvariants(resource: Resource, wellFormed: boolean): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  checkJsonValues(resource, resource.resourceType, issues);
  if (issues.length > 0 || !wellFormed) {
    // Unstorable or empty values make FHIRPath results meaningless; report them first, alone.
    return issues;
  }
  checkContainedReferenced(resource, issues);
  checkTypedElements(resource, issues);
  return issues;
}

/** ele-1 and storable text, over the raw JSON: every key and string, every object and array. */
function checkJsonValues(value: unknown, path: string, issues: OperationOutcomeIssue[]): void {
  if (typeof value === 'string') {
    if (value === '') {
      issues.push(issue('invalid', 'Empty strings are not allowed (ele-1): omit the element instead', path));
    } else if (hasUnstorableCharacters(value)) {
      issues.push(issue('invalid', 'Text may not contain NUL or unpaired UTF-16 surrogates', path));
    }
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) {
      issues.push(issue('invalid', 'Empty arrays are not allowed (ele-1): omit the element instead', path));
    }
    value.forEach((item, index) => checkJsonValues(item, `${path}[${index}]`, issues));
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      issues.push(issue('invalid', 'Empty objects are not allowed (ele-1): omit the element instead', path));
    }
    for (const [key, child] of entries) {
      if (key === '' || hasUnstorableCharacters(key)) {
        issues.push(issue('structure', 'Invalid property name', path));
        continue;
      }
      if (key.startsWith('_') && !isPrimitiveElement(child)) {
        issues.push(issue('structure', 'A primitive\'s extension element (_name) must be an object, or an array of objects and nulls', `${path}.${key}`));
        continue;
      }
      checkJsonValues(child, `${path}.${key}`, issues);
    }
  }
}

/** The JSON shape of `_name` (a primitive's id and extensions): an object, or for a list, objects and nulls. */
function isPrimitiveElement(value: unknown): boolean {
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  return isObject(value) || (Array.isArray(value) && value.every((v) => v === null || isObject(v)));
}

/** dom-3: each contained resource is referenced (`#id`) from elsewhere in the resource, or refers to it (`#`). */
function checkContainedReferenced(resource: Resource, issues: OperationOutcomeIssue[]): void {
  const contained = 'contained' in resource && Array.isArray(resource.contained) ? resource.contained : [];
  if (contained.length === 0) {
    return;
  }
  const outside = new Set<string>();
  collectStrings({ ...resource, contained: undefined }, outside);
  contained.forEach((inner: Resource, index) => {
    const others = new Set<string>(outside);
    contained.forEach((other: Resource, j) => j !== index && collectStrings(other, others));
    const own = new Set<string>();
    collectStrings(inner, own);
    const referenced = typeof inner.id === 'string' && others.has(`#${inner.id}`);
    if (!referenced && !own.has('#')) {
      issues.push(
        issue(
          'invariant',
          'A contained resource must be referenced from elsewhere in the resource (dom-3)',
          `${resource.resourceType}.contained[${index}]`,
        ),
      );
    }
  });
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    into.add(value);
  } else if (Array.isArray(value)) {
    value.forEach((item) => collectStrings(item, into));
  } else if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach((child) => collectStrings(child, into));
  }
}

/** Walks the resource with its type definitions: nested types' own invariants, and every xhtml value. */
function checkTypedElements(resource: Resource, issues: OperationOutcomeIssue[]): void {
  const root = toTypedValue(resource);
  const resources: TypedValue[] = [];
  crawlTypedValue(
    root,
    {
      onEnterResource(_path, value) {
        resources.push(value);
      },
      onExitResource() {
        resources.pop();
      },
      onEnterObject(_path, value, schema) {
        if (value.value === resource) {
          return; // The validator checks the root resource's own invariants.
        }
        issues.push(...checkTypeInvariants(value, schema, root, resources.at(-1) ?? root));
      },
      visitProperty(_parent, _key, _path, propertyValues) {
        for (const value of propertyValues.flat()) {
          if (value.type === 'xhtml' && typeof value.value === 'string') {
            issues.push(...checkNarrativeDiv(value.value, value.path));
          }
          if (value.type === 'Reference') {
            checkLiteralReference(value, issues);
          }
          if ((value.type === 'url' || value.type === 'uri') && typeof value.value === 'string' && SCRIPT_URL.test(value.value)) {
            issues.push(issue('value', 'A script URL (javascript:, vbscript:) is not allowed', value.path));
          }
        }
      },
    },
    { skipMissingProperties: true },
  );
}

/** A URL that runs script when followed, however it is spaced or cased (browsers strip tabs and newlines from URLs). */
const SCRIPT_URL = /^\s*(j[\t\n\r]*a[\t\n\r]*v[\t\n\r]*a|v[\t\n\r]*b)[\t\n\r]*s[\t\n\r]*c[\t\n\r]*r[\t\n\r]*i[\t\n\r]*p[\t\n\r]*t[\t\n\r]*:/i;

/** A Reference's `reference` must be one of the forms R4 defines (references.ts); a `javascript:` URL is none. */
function checkLiteralReference(value: TypedValueWithPath, issues: OperationOutcomeIssue[]): void {
  const reference: unknown = (value.value as { reference?: unknown } | undefined)?.reference;
  if (typeof reference === 'string' && !isLiteralReference(reference)) {
    issues.push(
      issue(
        'value',
        'Reference.reference must be a relative reference (Type/id), an absolute http(s) URL, a urn:uuid: or urn:oid:, or a local #fragment',
        `${value.path}.reference`,
      ),
    );
  }
}

/** The error-severity invariants a type (data type, or contained resource) defines for itself, at `value`. */
function checkTypeInvariants(
  value: TypedValueWithPath,
  schema: InternalTypeSchema,
  root: TypedValue,
  resource: TypedValue,
): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const isContainedResource = isResource(value.value);
  for (const constraint of schema.constraints ?? []) {
    if (constraint.severity !== 'error' || SKIPPED_INVARIANTS.has(constraint.key)) {
      continue;
    }
    const variables: Record<string, TypedValue> = {
      '%context': value,
      '%ucum': { type: 'uri', value: UCUM },
      '%resource': isContainedResource ? value : resource,
      '%rootResource': root,
    };
    let result: TypedValue[];
    try {
      result = evalFhirPathTyped(parsed(constraint.expression), [value], variables);
    } catch {
      // An expression the FHIRPath engine cannot evaluate is not held against the resource.
      continue;
    }
    // FHIRPath is three-valued: an empty result is "unknown" (ref-1 on a Reference with only a display), not a breach.
    if (result.length === 1 && result[0]?.value === false) {
      issues.push(issue('invariant', `Constraint ${constraint.key} not met: ${constraint.description}`, value.path));
    }
  }
  return issues;
}

function parsed(expression: string): FhirPathAtom {
  let atom = parsedExpressions.get(expression);
  if (!atom) {
    atom = parseFhirPath(expression);
    parsedExpressions.set(expression, atom);
  }
  return atom;
}

function issue(code: OperationOutcomeIssue['code'], text: string, path: string): OperationOutcomeIssue {
  return { severity: 'error', code, details: { text }, expression: [path] };
}
