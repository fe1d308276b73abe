/**
 * Validation of every write, in one call that reports every problem at once:
 * 1. R4 structure, cardinality and invariants (@medplum/core's validator);
 * 2. the R4 rules that validator leaves out: nested data type invariants, empty values, dom-3, narrative XHTML,
 *    storable text (invariants.ts);
 * 3. each profile the resource claims in `meta.profile`, which must be one of ours (fhir-profiles/) or one whose rules
 *    a write rule checks in code (PROFILES_CHECKED_IN_CODE): we do not accept a claim of conformance we cannot check;
 * 4. required terminology bindings, which @medplum/core does not enforce (required-bindings.ts).
 * Failures throw one OperationOutcomeError (400) whose issues name the element as FHIRPath in `expression`.
 * {@link validateFhirStructure} is the same without step 3, for checking input before server rules complete it.
 */
import { OperationOutcomeError, validateResource, type ValidatorOptions } from '@medplum/core';
import type { OperationOutcomeIssue, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { PROFILES_CHECKED_IN_CODE } from './canonical-urls';
import { checkInvariants } from './invariants';
import { exceedsJsonDepth, MAX_JSON_DEPTH } from './json-depth';
import { findConformanceResourceByUrl, loadFhirDefinitions } from './profiles';
import { checkRequiredBindings, type BoundValues } from './required-bindings';
import { safeForMessage } from './resource-types';

/**
 * Validates `resource` against R4, the profiles it claims and the required terminology bindings. Throws an
 * OperationOutcomeError (400) listing every error; returns the warnings, if any, for the caller to log.
 */
export function validateFhirResource(resource: Resource): OperationOutcomeIssue[] {
  return validate(resource, true);
}

/**
 * Validates `resource` against R4 alone (structure, invariants, required bindings), ignoring the profiles it claims:
 * what every write is checked for before server-side rules read it, so they only ever see a well-formed resource.
 * Throws like {@link validateFhirResource}.
 */
export function validateFhirStructure(resource: Resource): OperationOutcomeIssue[] {
  return validate(resource, false);
}

function validate(resource: Resource, withProfiles: boolean): OperationOutcomeIssue[] {
  if (exceedsJsonDepth(resource)) {
    const type = typeof resource.resourceType === 'string' ? safeForMessage(resource.resourceType) : 'Resource';
    throw new OperationOutcomeError({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'structure', details: { text: `The resource nests more than ${MAX_JSON_DEPTH} levels deep` }, expression: [type] }],
    });
  }
  loadFhirDefinitions();
  const boundValues: BoundValues = {};
  const issues = runValidator(resource, { collect: { tokens: boundValues } });
  issues.push(...checkInvariants(resource, !issues.some(isError)));
  const profiles = withProfiles && Array.isArray(resource.meta?.profile) ? resource.meta.profile : [];
  profiles.forEach((url: unknown, index) => {
    if (typeof url !== 'string') {
      return; // The R4 validation above reports it.
    }
    const expression = `${resource.resourceType}.meta.profile[${index}]`;
    const profile = resolveProfile(url, resource.resourceType, expression);
    if ('issue' in profile) {
      issues.push(profile.issue);
    } else if (profile.structureDefinition) {
      issues.push(...runValidator(resource, { profile: profile.structureDefinition, collect: { tokens: boundValues } }));
    }
  });
  issues.push(...checkRequiredBindings(boundValues));

  const unique = withoutDuplicates(issues);
  if (unique.some(isError)) {
    throw new OperationOutcomeError({ resourceType: 'OperationOutcome', issue: unique });
  }
  return unique;
}

type ResolvedProfile = { structureDefinition?: StructureDefinition } | { issue: OperationOutcomeIssue };

/** Our profile for `url`; nothing to add for the base definition of the type itself; an issue otherwise. */
function resolveProfile(url: string, resourceType: string, expression: string): ResolvedProfile {
  if (url === `http://hl7.org/fhir/StructureDefinition/${resourceType}`) {
    return {}; // The base definition: step 1 already checked it.
  }
  const checkedInCode = PROFILES_CHECKED_IN_CODE.get(url);
  const profile = checkedInCode ? undefined : findConformanceResourceByUrl(url);
  const constrains = checkedInCode ?? (profile?.resourceType === 'StructureDefinition' ? profile.type : undefined);
  if (constrains === undefined) {
    return {
      issue: {
        severity: 'error',
        code: 'not-supported',
        details: { text: `Unknown profile ${canonicalForMessage(url)}: this server cannot check conformance to it` },
        expression: [expression],
      },
    };
  }
  if (constrains !== resourceType) {
    return {
      issue: {
        severity: 'error',
        code: 'invalid',
        details: { text: `Profile ${canonicalForMessage(url)} constrains ${constrains}, not ${resourceType}` },
        expression: [expression],
      },
    };
  }
  // A profile checked in code: the write rules that check it have already run (profiles are judged after them).
  return profile?.resourceType === 'StructureDefinition' ? { structureDefinition: profile } : {};
}

/** Longer than any real canonical (the Backport IG's longest is under 120 characters). */
const MAX_CANONICAL_IN_MESSAGE = 512;

/**
 * A canonical for an error message, whole (a cut URL helps nobody find the profile) up to a length no real canonical
 * reaches, so a request cannot make the answer echo kilobytes back; the characters a URL may hold, anything else as
 * `?`, so the message never carries markup or control characters from the request.
 */
function canonicalForMessage(url: string): string {
  const shown = url.length > MAX_CANONICAL_IN_MESSAGE ? `${url.slice(0, MAX_CANONICAL_IN_MESSAGE)}...` : url;
  return shown.replace(/[^A-Za-z0-9\-._~:/?#[\]@!$&()*+,;=%|]/g, '?');
}

/**
 * Runs @medplum/core's validator and returns its issues, errors included, instead of throwing them. The validator is a
 * function of the input alone, so anything else it throws (it throws plain Errors on some malformed shapes) means the
 * input is malformed: a structure issue, never a server error.
 */
function runValidator(resource: Resource, options: ValidatorOptions): OperationOutcomeIssue[] {
  try {
    return [...validateResource(resource, options)];
  } catch (err) {
    if (err instanceof OperationOutcomeError && err.outcome.issue) {
      return [...err.outcome.issue];
    }
    return [
      {
        severity: 'error',
        code: 'structure',
        details: { text: 'The resource is malformed: an element has the wrong JSON shape' },
        expression: [typeof resource.resourceType === 'string' ? safeForMessage(resource.resourceType) : 'Resource'],
      },
    ];
  }
}

function isError(issue: OperationOutcomeIssue): boolean {
  return issue.severity === 'error' || issue.severity === 'fatal';
}

/** The base validation and a profile's validation report base problems alike; each is reported once. */
function withoutDuplicates(issues: readonly OperationOutcomeIssue[]): OperationOutcomeIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.severity, issue.code, issue.details?.text, issue.expression]);
    if (seen.has(key)) {
      return false;
    }
    seen.add(key);
    return true;
  });
}
