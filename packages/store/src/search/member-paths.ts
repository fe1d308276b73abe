/**
 * Search parameter expressions that are only member paths (`AuditEvent.entity.what`, `Patient.name | Patient.alias`),
 * evaluated as property walks whose element types were resolved once from the R4 definitions, instead of by
 * @medplum/core's FHIRPath interpreter, which looks every step's element definition up again on every value: that was
 * most of the cost of indexing a version. The walk yields what the interpreter yields (a test holds them equal on
 * every supported parameter); any other expression (`where()`, `ofType()`, choice elements, a `Resource`-typed
 * element), and any value that carries primitive extensions (`_given`), is left to the interpreter.
 */
import { loadFhirDefinitions } from '@carecircle/fhir';
import { getElementDefinition, isEmpty, removeDuplicates, type TypedValue } from '@medplum/core';

/** One step of a member path: the property and the type of what it holds. */
interface Step {
  name: string;
  type: string;
}

/** A compiled expression: the values on `resource`, or undefined when the interpreter must evaluate it. */
export type MemberPaths = (resource: Record<string, unknown>) => TypedValue[] | undefined;

const MEMBER_PATH = /^[A-Z][A-Za-z]*(\.[a-z][A-Za-z]*)+$/;

/**
 * `expression` compiled for resources of `resourceType`, or undefined when it is not a union of member paths whose
 * every element has one type. Paths rooted at another type yield nothing on this one, as in FHIRPath.
 */
export function compileMemberPaths(resourceType: string, expression: string): MemberPaths | undefined {
  const parts = expression.split('|').map((part) => part.trim());
  if (!parts.every((part) => MEMBER_PATH.test(part))) {
    return undefined;
  }
  loadFhirDefinitions();
  const paths: Step[][] = [];
  for (const part of parts) {
    const [root, ...names] = part.split('.');
    if (root !== resourceType) {
      continue;
    }
    const steps = resolveSteps(resourceType, names);
    if (!steps) {
      return undefined;
    }
    paths.push(steps);
  }
  // A union drops values it already holds, as FHIRPath's `|` does with @medplum/core's equality, which tells elements
  // apart by where they were found: walked with the paths the interpreter notes, then handed out without them.
  const union = parts.length > 1;
  return (resource) => {
    const values: Found[] = [];
    for (const steps of paths) {
      if (!walk(resource, steps, values, union)) {
        return undefined;
      }
    }
    return union ? removeDuplicates(values).map(({ type, value }) => ({ type, value })) : values;
  };
}

type Found = TypedValue & { path?: string };

/** The steps of `names` from `type`, each element with exactly one type that is not `Resource`; else undefined. */
function resolveSteps(type: string, names: readonly string[]): Step[] | undefined {
  const steps: Step[] = [];
  let current = type;
  for (const name of names) {
    const element = getElementDefinition(current, name);
    const types = element?.type ?? [];
    if (!element || element.path.endsWith('[x]') || types.length !== 1 || types[0]!.code === 'Resource') {
      return undefined;
    }
    current = types[0]!.code;
    steps.push({ name, type: current });
  }
  return steps;
}

/**
 * Appends what `steps` reach from `resource` to `out`, with the interpreter's paths (`Patient.name[1].family`) when
 * `withPaths`; false when a value on the way carries primitive extensions.
 */
function walk(resource: Record<string, unknown>, steps: readonly Step[], out: Found[], withPaths: boolean): boolean {
  let values: unknown[] = [resource];
  let paths: string[] = withPaths ? [String(resource.resourceType)] : [];
  for (const { name } of steps) {
    const next: unknown[] = [];
    const nextPaths: string[] = [];
    for (let at = 0; at < values.length; at++) {
      const value = values[at];
      if (!value || typeof value !== 'object') {
        continue;
      }
      const holder = value as Record<string, unknown>;
      if (holder[`_${name}`] !== undefined) {
        return false;
      }
      const found = holder[name];
      if (isEmpty(found)) {
        continue;
      }
      const path = withPaths ? `${paths[at]}.${name}` : '';
      if (Array.isArray(found)) {
        for (let index = 0; index < found.length; index++) {
          if (found[index] !== undefined) {
            next.push(found[index]);
            nextPaths.push(withPaths ? `${path}[${index}]` : '');
          }
        }
      } else {
        next.push(found);
        nextPaths.push(path);
      }
    }
    values = next;
    paths = nextPaths;
    if (values.length === 0) {
      return true;
    }
  }
  const type = steps[steps.length - 1]!.type;
  for (let at = 0; at < values.length; at++) {
    out.push(withPaths ? { type, value: values[at], path: paths[at] } : { type, value: values[at] });
  }
  return true;
}
