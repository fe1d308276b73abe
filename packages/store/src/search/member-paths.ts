/**
 * Search parameter expressions that are only member paths (`AuditEvent.entity.what`, `Patient.name | Patient.alias`),
 * evaluated as property walks whose element types were resolved once from the R4 definitions, instead of by
 * @medplum/core's FHIRPath interpreter, which looks every step's element definition up again on every value: that was
 * most of the cost of indexing a version. A path may end in `.where(resolve() is T)` (a reference parameter kept to one
 * target type, as the Patient compartment's are). The walk yields what the interpreter yields (a test holds them equal
 * on every supported parameter); any other expression (other `where()`s, `ofType()`, choice elements, a
 * `Resource`-typed element), and any value that carries primitive extensions (`_given`) or a reference carrying its
 * resource inline, is left to the interpreter.
 */
import { loadFhirDefinitions } from '@carecircle/fhir';
import { getElementDefinition, isEmpty, removeDuplicates, type TypedValue } from '@medplum/core';

/** One step of a member path: the property and the type of what it holds. */
interface Step {
  name: string;
  type: string;
}

/** A member path, and the resource type its references must resolve to when it ends in `.where(resolve() is T)`. */
interface Path {
  steps: Step[];
  resolvesTo?: string;
}

/** A compiled expression: the values on `resource`, or undefined when the interpreter must evaluate it. */
export type MemberPaths = (resource: Record<string, unknown>) => TypedValue[] | undefined;

const MEMBER_PATH = /^([A-Z][A-Za-z]*(?:\.[a-z][A-Za-z]*)+)(?:\.where\(\(?resolve\(\) is ([A-Z][A-Za-z]*)\)?\))?$/;

/** Types `is` tests other than by name (fhirPathIs): never compiled. */
const SYSTEM_TYPES = new Set(['Boolean', 'Decimal', 'Integer', 'Date', 'DateTime', 'Time', 'Period', 'Quantity']);

/**
 * `expression` compiled for resources of `resourceType`, or undefined when it is not a union of member paths (each
 * perhaps kept to the references that resolve to one type) whose every element has one type. Paths rooted at another
 * type yield nothing on this one, as in FHIRPath.
 */
export function compileMemberPaths(resourceType: string, expression: string): MemberPaths | undefined {
  const parts = unionParts(expression);
  const matches = parts.map((part) => MEMBER_PATH.exec(part));
  if (!matches.every((match) => match && !SYSTEM_TYPES.has(match[2] ?? ''))) {
    return undefined;
  }
  loadFhirDefinitions();
  const paths: Path[] = [];
  for (const match of matches) {
    const [root, ...names] = match![1]!.split('.');
    if (root !== resourceType) {
      continue;
    }
    const steps = resolveSteps(resourceType, names);
    if (!steps) {
      return undefined;
    }
    paths.push({ steps, ...(match![2] && { resolvesTo: match![2] }) });
  }
  // A union drops values it already holds, as FHIRPath's `|` does with @medplum/core's equality, which tells elements
  // apart by where they were found: walked with the paths the interpreter notes, then handed out without them.
  const union = parts.length > 1;
  return (resource) => {
    const values: Found[] = [];
    for (const path of paths) {
      if (!walk(resource, path, values, union)) {
        return undefined;
      }
    }
    return union ? removeDuplicates(values).map(({ type, value }) => ({ type, value })) : values;
  };
}

type Found = TypedValue & { path?: string };

/** The operands of a union, nested unions flattened (`(A | B) | C`: its dropping of what it holds is associative). */
function unionParts(expression: string): string[] {
  const inner = withoutOuterParentheses(expression.trim());
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let at = 0; at < inner.length; at++) {
    const char = inner[at];
    if (char === '(') {
      depth++;
    } else if (char === ')') {
      depth--;
    } else if (char === '|' && depth === 0) {
      parts.push(inner.slice(from, at));
      from = at + 1;
    }
  }
  parts.push(inner.slice(from));
  return parts.length === 1 ? [inner] : parts.flatMap(unionParts);
}

/** `(x)` as `x` when the parentheses enclose the whole of it. */
function withoutOuterParentheses(expression: string): string {
  if (!expression.startsWith('(') || !expression.endsWith(')')) {
    return expression;
  }
  let depth = 0;
  for (let at = 0; at < expression.length - 1; at++) {
    depth += expression[at] === '(' ? 1 : expression[at] === ')' ? -1 : 0;
    if (depth === 0) {
      return expression;
    }
  }
  return withoutOuterParentheses(expression.slice(1, -1).trim());
}

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
function walk(resource: Record<string, unknown>, { steps, resolvesTo }: Path, out: Found[], withPaths: boolean): boolean {
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
    const value = values[at];
    if (resolvesTo !== undefined) {
      const resolved = resolvedType(value);
      if (resolved === INLINE) {
        return false;
      }
      if (resolved !== resolvesTo) {
        continue;
      }
    }
    out.push(withPaths ? { type, value, path: paths[at] } : { type, value });
  }
  return true;
}

const INLINE = Symbol('inline resource');

/**
 * The type FHIRPath's `resolve()` gives a reference without fetching it, as @medplum/core does: the part before `?`
 * (a conditional reference, or `type` with `identifier`), else before the first `/`; undefined when it resolves to
 * nothing; INLINE for a reference carrying the resource itself, left to the interpreter.
 */
function resolvedType(value: unknown): string | undefined | typeof INLINE {
  let reference: string | undefined;
  if (typeof value === 'string') {
    reference = value;
  } else if (value && typeof value === 'object') {
    const { resource, reference: written, type, identifier } = value as Record<string, unknown> & { identifier?: { system?: unknown; value?: unknown } };
    if (resource) {
      return INLINE;
    }
    if (written) {
      reference = written as string;
    } else if (type && identifier) {
      reference = `${String(type)}?identifier=${String(identifier.system)}|${String(identifier.value)}`;
    }
  }
  if (typeof reference !== 'string') {
    return undefined;
  }
  if (reference.includes('?')) {
    return reference.split('?')[0];
  }
  return reference.includes('/') ? reference.split('/')[0] : undefined;
}
