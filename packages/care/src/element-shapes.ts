/**
 * Reading elements of a body that has not been validated yet. The care rules run inside the store's write, before (or
 * whether or not) structural validation has looked at the body, and createReferral looks at a request before it is
 * stored: any element may have any JSON shape. These readers never throw; a wrong shape reads as absent, the rule
 * refuses the write for what is missing, and validation names the malformed element.
 */
import type { CodeableConcept, Coding, Reference } from '@medplum/fhirtypes';

/** `value` when it is a list, else an empty list. */
export function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** True when `value` is a JSON object (not a list, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `reference.reference` when `reference` is an object carrying a string there. */
export function referenceOf(reference: unknown): string | undefined {
  return isObject(reference) && typeof reference.reference === 'string' ? reference.reference : undefined;
}

/** The references of a list of Reference elements, skipping anything else. */
export function referencesOf(references: unknown): string[] {
  return listOf(references).flatMap((r) => {
    const reference = referenceOf(r);
    return reference === undefined ? [] : [reference];
  });
}

/** The well-formed codings of a CodeableConcept (anything else reads as no coding). */
export function codingsOf(concept: CodeableConcept | undefined | unknown): Coding[] {
  return isObject(concept) ? listOf(concept.coding).filter((c): c is Coding => isObject(c)) : [];
}

/** The Reference elements of a list that are objects. */
export function referenceElementsOf(references: unknown): Reference[] {
  return listOf(references).filter((r): r is Reference => isObject(r));
}
