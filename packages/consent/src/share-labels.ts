/**
 * The server-side labelling of a client's data (contract, DESIGN.md "categories, labels, consent"): every resource in a
 * client's compartment leaves a write with exactly one share category in `meta.tag` and the HL7 security labels that
 * follow from it in `meta.security`. It runs as a store {@link WriteRule}, so no write path can skip it.
 *
 * Labels only ever go up: a writer cannot lower a label it did not set. Confidentiality is the highest of what the
 * category implies, what the writer set and what the current version carried; sensitivity labels of the current
 * version stay even when the category changes. A write that names no category keeps the current version's category,
 * so that an update from a client that dropped `meta` does not silently move a resource into a more widely shared
 * category; only a new resource gets the default of its type.
 */
import { badRequest, OperationOutcomeError } from '@carecircle/fhir';
import { computePatientCompartments, type WriteRule } from '@carecircle/store';
import type { Coding, Meta, Resource } from '@medplum/fhirtypes';
import {
  ACT_CODE_SYSTEM,
  CONFIDENTIALITY_SYSTEM,
  DEFAULT_CATEGORY_BY_TYPE,
  isShareCategory,
  securityLabelsFor,
  SHARE_CATEGORY_SYSTEM,
  type ShareCategory,
} from './share-category';

/** v3-Confidentiality codes from least to most restrictive: U < L < M < N < R < V. */
export const CONFIDENTIALITY_ORDER = ['U', 'L', 'M', 'N', 'R', 'V'] as const;

export type ConfidentialityCode = (typeof CONFIDENTIALITY_ORDER)[number];

/** The category of a compartment type that {@link DEFAULT_CATEGORY_BY_TYPE} does not list. */
const FALLBACK_CATEGORY: ShareCategory = 'progress';

/** The labels a resource leaves the write with: exactly what goes into `meta.tag` and `meta.security`. */
export interface ShareLabels {
  category: ShareCategory;
  tag: Coding[];
  security: Coding[];
}

/**
 * Write rule: fills in and checks the share category and security labels of every resource in a client's compartment;
 * refuses a share category on anything else (400), where it would mean nothing.
 */
export const applyShareLabels: WriteRule = (next, current) => {
  const labels = computeShareLabels(next, current);
  if (labels) {
    next.meta = { ...next.meta, tag: labels.tag, security: labels.security };
  }
};

/**
 * The labels `next` must carry given the `current` version (undefined for a new resource), or undefined when `next` is
 * in no client's compartment and is left as written. Pure; throws a 400 OperationOutcomeError for more than one share
 * category, an unknown one, an unknown confidentiality code, or a share category outside any compartment.
 */
export function computeShareLabels(next: Resource, current: Resource | undefined): ShareLabels | undefined {
  const type = next.resourceType;
  const tags = next.meta?.tag ?? [];
  const categoryTags = tags.filter(isCategoryTag);
  if (computePatientCompartments(next).length === 0) {
    if (categoryTags.length > 0) {
      throw invalid(`${type} is not client data and carries no share category`, `${type}.meta.tag`);
    }
    return undefined;
  }
  if (categoryTags.length > 1) {
    throw invalid('A resource carries exactly one share category', `${type}.meta.tag`);
  }
  const category = chooseCategory(type, categoryTags[0], current);
  return {
    category,
    tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }, ...tags.filter((tag) => !isCategoryTag(tag))],
    security: mergeSecurityLabels(type, category, next.meta, current?.meta),
  };
}

/** Confidentiality first, then the sensitivity (v3-ActCode) labels sorted, then other systems' labels as written. */
function mergeSecurityLabels(type: string, category: ShareCategory, written: Meta | undefined, current: Meta | undefined): Coding[] {
  const implied = securityLabelsFor(category);
  const writtenLabels = written?.security ?? [];
  const currentLabels = current?.security ?? [];

  const confidentiality = highestConfidentiality([
    ...implied.filter(isConfidentiality).map((c) => c.code),
    ...writtenLabels.filter(isConfidentiality).map((c) => knownConfidentiality(c.code, type)),
    // The current version was labelled by this rule; an unknown code there (legacy data) cannot lower anything.
    ...currentLabels.filter(isConfidentiality).map((c) => c.code),
  ]);

  const sensitivities = new Set<string>();
  for (const coding of [...implied, ...writtenLabels, ...currentLabels]) {
    if (coding.system === ACT_CODE_SYSTEM && coding.code) {
      sensitivities.add(coding.code);
    }
  }

  const others = new Map<string, Coding>();
  for (const coding of writtenLabels) {
    if (coding.system !== CONFIDENTIALITY_SYSTEM && coding.system !== ACT_CODE_SYSTEM) {
      const key = `${coding.system ?? ''}|${coding.code ?? ''}`;
      if (!others.has(key)) {
        others.set(key, coding);
      }
    }
  }

  return [
    { system: CONFIDENTIALITY_SYSTEM, code: confidentiality },
    ...[...sensitivities].sort().map((code) => ({ system: ACT_CODE_SYSTEM, code })),
    ...others.values(),
  ];
}

/** The most restrictive of `codes` (codes that are not v3-Confidentiality codes are ignored). */
export function highestConfidentiality(codes: readonly (string | undefined)[]): ConfidentialityCode {
  let highest = 0;
  for (const code of codes) {
    highest = Math.max(highest, CONFIDENTIALITY_ORDER.indexOf(code as ConfidentialityCode));
  }
  return CONFIDENTIALITY_ORDER[highest] ?? 'U';
}

function knownConfidentiality(code: string | undefined, type: string): ConfidentialityCode {
  const known = CONFIDENTIALITY_ORDER.find((c) => c === code);
  if (!known) {
    throw invalid('Unknown confidentiality code (expected U, L, M, N, R or V)', `${type}.meta.security`);
  }
  return known;
}

/** The writer's category if any (it must be ours), else the current version's, else the default of the type. */
function chooseCategory(type: string, written: Coding | undefined, current: Resource | undefined): ShareCategory {
  if (!written) {
    return currentCategory(current) ?? DEFAULT_CATEGORY_BY_TYPE[type] ?? FALLBACK_CATEGORY;
  }
  if (!isShareCategory(written.code)) {
    throw invalid('Unknown share category', `${type}.meta.tag`);
  }
  return written.code;
}

function currentCategory(current: Resource | undefined): ShareCategory | undefined {
  const codes = (current?.meta?.tag ?? []).filter(isCategoryTag).map((tag) => tag.code);
  const code = codes.length === 1 ? codes[0] : undefined;
  return isShareCategory(code) ? code : undefined;
}

function isCategoryTag(coding: Coding): boolean {
  return coding.system === SHARE_CATEGORY_SYSTEM;
}

function isConfidentiality(coding: Coding): boolean {
  return coding.system === CONFIDENTIALITY_SYSTEM;
}

function invalid(text: string, expression: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(text, expression));
}
