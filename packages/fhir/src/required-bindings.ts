/**
 * Required terminology bindings, which @medplum/core's validator does not enforce (it accepts Patient.gender "bogus").
 * The validator does find them: with `collect.tokens` it gathers every value of an element whose binding is required,
 * keyed by value set and carrying its FHIRPath, using the same element definitions (base or profile) it validates
 * against. We check those values against local expansions:
 * - `code` values must be in the value set;
 * - Coding and CodeableConcept codings are checked only when their system is one the value set draws on (a coding
 *   from another system may be an additional translation).
 * A value set we cannot expand locally is skipped, never held against the resource.
 */
import type { TypedValue } from '@medplum/core';
import type { CodeableConcept, Coding, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { safeForMessage } from './resource-types';
import { expandValueSet, expansionContains, type ValueSetExpansion } from './value-set-expansion';

/** A value with its FHIRPath, as @medplum/core's validator collects it (its `TypedValueWithPath`). */
export type BoundValue = TypedValue & { path: string };

/** Values of required-bound elements by value set URL: the shape of `ValidatorOptions.collect.tokens`. */
export type BoundValues = Record<string, BoundValue[]>;

/** Returns one `code-invalid` error issue per value that is not in its element's required value set. */
export function checkRequiredBindings(boundValues: BoundValues): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  for (const [valueSetUrl, values] of Object.entries(boundValues)) {
    const expansion = expandValueSet(valueSetUrl);
    if (!expansion) {
      continue;
    }
    for (const value of values) {
      issues.push(...checkValue(value, expansion, valueSetUrl.split('|')[0] ?? valueSetUrl));
    }
  }
  return issues;
}

function checkValue(value: BoundValue, expansion: ValueSetExpansion, valueSetUrl: string): OperationOutcomeIssue[] {
  switch (value.type) {
    case 'code': {
      const code = primitiveString(value.value);
      return code === undefined || expansionContains(expansion, code)
        ? []
        : [codeInvalid(value.path, code, valueSetUrl)];
    }
    case 'Coding':
      return checkCodings([value.value as Coding], value.path, expansion, valueSetUrl, false);
    case 'CodeableConcept': {
      // Malformed values (a coding that is not an array) are reported by the structural validation.
      const codings: unknown = (value.value as CodeableConcept | undefined)?.coding;
      return checkCodings(Array.isArray(codings) ? (codings as Coding[]) : [], value.path, expansion, valueSetUrl, true);
    }
    default:
      // Quantity, string and uri bindings need unit and URI semantics we do not have locally.
      return [];
  }
}

function checkCodings(
  codings: readonly Coding[],
  path: string,
  expansion: ValueSetExpansion,
  valueSetUrl: string,
  inConcept: boolean,
): OperationOutcomeIssue[] {
  return codings.flatMap((coding, index) => {
    if (typeof coding !== 'object' || coding === null) {
      return [];
    }
    const { system, code } = coding;
    if (typeof system !== 'string' || typeof code !== 'string' || !expansion.has(system) || expansionContains(expansion, code, system)) {
      return [];
    }
    return [codeInvalid(inConcept ? `${path}.coding[${index}]` : path, code, valueSetUrl)];
  });
}

/** A primitive's string value; primitives with extensions arrive boxed. */
function primitiveString(value: unknown): string | undefined {
  const unboxed: unknown = value instanceof String ? value.valueOf() : value;
  return typeof unboxed === 'string' ? unboxed : undefined;
}

function codeInvalid(path: string, code: string, valueSetUrl: string): OperationOutcomeIssue {
  return {
    severity: 'error',
    code: 'code-invalid',
    details: { text: `${path}: code "${safeForMessage(code)}" is not in the required value set ${valueSetUrl}` },
    expression: [path],
  };
}
