/**
 * The server-side labelling of a client's data (contract, DESIGN.md "categories, labels, consent"): every resource in a
 * client's compartment leaves a write with exactly one share category in `meta.tag` and the HL7 security labels that
 * follow from it in `meta.security`. It runs as a store {@link WriteRule}, so no write path can skip it.
 *
 * Labels only ever go up: a writer cannot lower a label it did not set. Confidentiality is the highest of what the
 * category implies, what the writer set and what the current version carried; sensitivity labels of the current
 * version stay even when the category changes. A write that names no category keeps the current version's category,
 * so that an update from a client that dropped `meta` does not silently move a resource into a more widely shared
 * category; only a new resource gets the default of its type. The category itself never moves to a less sensitive one
 * (422; see {@link sensitivityRank}): psychotherapy notes stay psychotherapy notes, trauma history stays at least
 * trauma history.
 *
 * Two kinds of resource take their category from what they describe: a Consent always carries
 * {@link CONSENT_CATEGORY} (any other category is 400), and a Provenance or AuditEvent takes the most sensitive
 * category and the labels of the resources it points at (`target`, `entity.what`), so that the record of a
 * psychotherapy note is as protected as the note.
 */
import { describedReferences, DESCRIBING_RECORD_TYPES } from '@carecircle/auth';
import { badRequest, OperationOutcomeError, parseRelativeReference, unprocessable } from '@carecircle/fhir';
import { computePatientCompartments, readLatestMeta, type Queryable, type WriteRule } from '@carecircle/store';
import type { Coding, Meta, Resource } from '@medplum/fhirtypes';
import {
  ACT_CODE_SYSTEM,
  CONFIDENTIALITY_SYSTEM,
  CONSENT_CATEGORY,
  DEFAULT_CATEGORY_BY_TYPE,
  isPsychotherapyNoteResource,
  isShareCategory,
  securityLabelsFor,
  sensitivityRank,
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
 * refuses a share category on anything else (400), where it would mean nothing. For a Provenance or AuditEvent it
 * first reads the labels of the resources it describes, in the write's transaction.
 */
export const applyShareLabels: WriteRule = async (next, current, tx, write) => {
  const described = DESCRIBING_RECORD_TYPES.has(next.resourceType) ? await describedLabels(tx, next, write?.held ?? []) : [];
  const labels = computeShareLabels(next, current, described);
  if (labels) {
    next.meta = { ...next.meta, tag: labels.tag, security: labels.security };
  }
};

/**
 * The labels `next` must carry given the `current` version (undefined for a new resource) and, for a Provenance or
 * AuditEvent, the `meta` of the resources it describes; undefined when `next` is in no client's compartment and is left
 * as written. Pure; throws a 400 OperationOutcomeError for more than one share category, an unknown one, an unknown
 * confidentiality code, a share category outside any compartment or a Consent category other than
 * {@link CONSENT_CATEGORY}, and a 422 for a move to a less sensitive category.
 */
export function computeShareLabels(next: Resource, current: Resource | undefined, described: readonly Meta[] = []): ShareLabels | undefined {
  const type = next.resourceType;
  const tags = next.meta?.tag ?? [];
  const categoryTags = tags.filter(isCategoryTag);
  if (computePatientCompartments(next).length === 0) {
    if (categoryTags.length > 0) {
      throw invalid(`${type} is not client data and carries no share category`, `${type}.meta.tag`);
    }
    // A psychotherapy note is a note about a client: the label on anything else would mean nothing, and holding it
    // there lets the check for references to notes pass by every type no client's record holds (a record of a note
    // that names no client takes the note's labels, so it keeps them).
    if (isPsychotherapyNoteResource(next) && !DESCRIBING_RECORD_TYPES.has(type)) {
      throw invalid(`${type} is not about a client and cannot be a psychotherapy note`, `${type}.meta.security`);
    }
    return undefined;
  }
  if (categoryTags.length > 1) {
    throw invalid('A resource carries exactly one share category', `${type}.meta.tag`);
  }
  const category = type === 'Consent' ? consentCategory(categoryTags[0]) : chooseCategory(type, categoryTags[0], current, described);
  const previous = currentCategory(current);
  if (previous && sensitivityRank(category) < sensitivityRank(previous)) {
    throw new OperationOutcomeError(
      unprocessable(
        `A resource in ${previous} cannot move to the less sensitive ${category}${previous === 'psychotherapy-notes' ? ': psychotherapy notes stay psychotherapy notes' : ''}`,
        `${type}.meta.tag`,
      ),
    );
  }
  return {
    category,
    tag: [{ system: SHARE_CATEGORY_SYSTEM, code: category }, ...tags.filter((tag) => !isCategoryTag(tag))],
    security: mergeSecurityLabels(type, category, next.meta, [current?.meta, ...described]),
  };
}

/**
 * Confidentiality first, then the sensitivity (v3-ActCode) labels sorted, then other systems' labels as written.
 * `kept` are the labels that must not be lost: the current version's, and those of the resources a record describes.
 */
function mergeSecurityLabels(type: string, category: ShareCategory, written: Meta | undefined, kept: readonly (Meta | undefined)[]): Coding[] {
  const implied = securityLabelsFor(category);
  const writtenLabels = written?.security ?? [];
  const currentLabels = kept.flatMap((meta) => meta?.security ?? []);

  const confidentiality = highestConfidentiality([
    ...implied.filter(isConfidentiality).map((c) => c.code),
    ...writtenLabels.filter(isConfidentiality).map((c) => knownConfidentiality(c.code, type)),
    // The current version (and what a record describes) was labelled by this rule; an unknown code there (legacy
    // data) cannot lower anything.
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

/**
 * The writer's category if any (it must be ours), else the current version's, else the default of the type; raised to
 * the most sensitive category among the `described` resources when that is more sensitive.
 */
function chooseCategory(type: string, written: Coding | undefined, current: Resource | undefined, described: readonly Meta[]): ShareCategory {
  let category: ShareCategory;
  if (!written) {
    category = currentCategory(current) ?? DEFAULT_CATEGORY_BY_TYPE[type] ?? FALLBACK_CATEGORY;
  } else if (!isShareCategory(written.code)) {
    throw invalid('Unknown share category', `${type}.meta.tag`);
  } else {
    category = written.code;
  }
  for (const meta of described) {
    const theirs = categoryOfMeta(meta);
    if (theirs && sensitivityRank(theirs) > sensitivityRank(category)) {
      category = theirs;
    }
  }
  return category;
}

/** A Consent's category is fixed; naming another one is 400. */
function consentCategory(written: Coding | undefined): ShareCategory {
  if (written && written.code !== CONSENT_CATEGORY) {
    throw invalid(`A Consent always carries the share category ${CONSENT_CATEGORY}`, 'Consent.meta.tag');
  }
  return CONSENT_CATEGORY;
}

function currentCategory(current: Resource | undefined): ShareCategory | undefined {
  return categoryOfMeta(current?.meta);
}

function categoryOfMeta(meta: Meta | undefined): ShareCategory | undefined {
  const codes = (meta?.tag ?? []).filter(isCategoryTag).map((tag) => tag.code);
  const code = codes.length === 1 ? codes[0] : undefined;
  return isShareCategory(code) ? code : undefined;
}

/**
 * The `meta` of the resources a Provenance (`target`) or AuditEvent (`entity.what`) points at, latest content each: of
 * a resource the writer holds (`held`: the server's record of a read or search holds the current versions it
 * disclosed, as the request read them), the held version's when the reference names that version or none; of the
 * others, read here.
 */
async function describedLabels(tx: Queryable, record: Resource, held: readonly Resource[]): Promise<Meta[]> {
  const heldByKey = new Map(held.map((resource) => [`${resource.resourceType}/${resource.id}`, resource]));
  const known: Meta[] = [];
  const targets = describedReferences(record).flatMap((reference) => {
    const target = parseRelativeReference(reference);
    if (!target) {
      return [];
    }
    const holding = heldByKey.get(`${target.resourceType}/${target.id}`);
    const version = /\/_history\/([^/]+)$/.exec(reference)?.[1];
    if (holding?.meta && (version === undefined || holding.meta.versionId === version)) {
      known.push(holding.meta);
      return [];
    }
    return [target];
  });
  // One index lookup per target read (the latest version with content), whatever the size of the table.
  return targets.length === 0 ? known : [...known, ...(await readLatestMeta(tx, targets))];
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
