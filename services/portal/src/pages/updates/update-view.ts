/**
 * Coordinated updates (issue 12) as the portal reads and writes them: the contract's URLs (the portal's own copies:
 * it imports no domain package), the Composition a therapist's choices make, and the view of an update exactly as its
 * provider receives it (the letter's paragraphs, each shared part in plain sentences, the notice against
 * re-disclosure), built from structured data and the narrative's text only, never its markup. Pure.
 */
import type { Composition, CompositionSection, Reference, Resource } from '@medplum/fhirtypes';
import type { Language } from '../../i18n/catalogue';
import { categoryName, SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import type { SharingWords } from '../../i18n/sharing';
import type { UpdateState } from '../../i18n/updates';
import { describeResource } from '../sharing/summary-preview';

export const UPDATE_PROFILE = 'https://carecircle.dev/fhir/StructureDefinition/coordinated-update';
export const UPDATE_STATE_URL = 'https://carecircle.dev/fhir/StructureDefinition/update-state';
export const UPDATE_RECIPIENT_URL = 'https://carecircle.dev/fhir/StructureDefinition/update-recipient';
export const UPDATE_SECTION_SYSTEM = 'https://carecircle.dev/fhir/CodeSystem/update-section';
const UPDATE_STATES: readonly UpdateState[] = ['draft', 'awaiting-approval', 'released', 'declined', 'withdrawn'];
const XHTML = 'http://www.w3.org/1999/xhtml';
/** LOINC 34133-9 "Summary of episode note", the update's type (as the API's profile expects). */
const UPDATE_TYPE = { coding: [{ system: 'http://loinc.org', code: '34133-9' }] };

/** True for a Composition of the coordinated-update profile. */
export function isCoordinatedUpdate(resource: Resource | undefined): resource is Composition {
  return resource?.resourceType === 'Composition' && (resource.meta?.profile ?? []).includes(UPDATE_PROFILE);
}

export function updateStateOf(update: Composition): UpdateState | undefined {
  const code = update.extension?.find((e) => e.url === UPDATE_STATE_URL)?.valueCode;
  return UPDATE_STATES.find((s) => s === code);
}

/** The provider an update is for (`Organization/{id}` ...). */
export function recipientOf(update: Composition): string | undefined {
  return update.extension?.find((e) => e.url === UPDATE_RECIPIENT_URL)?.valueReference?.reference;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The text of a narrative's paragraphs (block elements and line breaks split them), without any markup. */
export function narrativeParagraphs(div: string | undefined): string[] {
  if (!div) {
    return [];
  }
  return div
    .replace(/<br\s*\/?>/gi, '\n')
    .split(/<\/(?:p|div|li|h[1-6])>|\n/i)
    .map((chunk) =>
      chunk
        .replace(/<[^>]*>/g, '')
        .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
          if (name.startsWith('#x') || name.startsWith('#X')) {
            return String.fromCodePoint(parseInt(name.slice(2), 16));
          }
          if (name.startsWith('#')) {
            return String.fromCodePoint(parseInt(name.slice(1), 10));
          }
          return ENTITIES[name.toLowerCase()] ?? whole;
        })
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .filter(Boolean);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The therapist's letter as XHTML narrative: one paragraph per block of text, every character escaped. */
export function letterNarrative(letter: string): string {
  const paragraphs = letter
    .split(/\r?\n\s*\r?\n|\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  return `<div xmlns="${XHTML}">${paragraphs.map((p) => `<p>${escapeXml(p)}</p>`).join('')}</div>`;
}

/** What a therapist chose for an update. */
export interface UpdateDraft {
  readonly patient: string;
  readonly author: string;
  readonly custodian: string;
  readonly recipient: string;
  readonly title: string;
  readonly letter: string;
  /** The chosen records, by share category (references `Type/id`). */
  readonly chosen: ReadonlyMap<string, readonly string[]>;
  /** Section titles by category, in the therapist's language. */
  readonly categoryTitle: (category: string) => string;
  readonly now: Date;
}

/** The draft Composition for `draft`: a letter section, then one section per category with the chosen records. */
export function draftComposition(draft: UpdateDraft): Composition {
  const letter = draft.letter.trim();
  const sections: CompositionSection[] = [];
  if (letter) {
    sections.push({
      title: 'Letter',
      code: { coding: [{ system: UPDATE_SECTION_SYSTEM, code: 'letter' }] },
      text: { status: 'generated', div: letterNarrative(letter) },
    });
  }
  for (const [category, references] of draft.chosen) {
    if (references.length === 0) {
      continue;
    }
    sections.push({
      title: draft.categoryTitle(category),
      code: { coding: [{ system: SHARE_CATEGORY_SYSTEM, code: category }] },
      entry: references.map((reference) => ({ reference })),
    });
  }
  return {
    resourceType: 'Composition',
    meta: { profile: [UPDATE_PROFILE] },
    extension: [{ url: UPDATE_RECIPIENT_URL, valueReference: { reference: draft.recipient } }],
    status: 'preliminary',
    type: UPDATE_TYPE,
    subject: { reference: draft.patient },
    date: draft.now.toISOString(),
    author: [{ reference: draft.author }],
    custodian: { reference: draft.custodian },
    title: draft.title,
    section: sections,
  };
}

/** One shared part of an update: its category's name and one entry (lines) per record. */
export interface UpdateSectionView {
  readonly category: string;
  readonly title: string;
  readonly entries: readonly (readonly string[])[];
}

export interface UpdateView {
  readonly id: string;
  readonly state: UpdateState | undefined;
  readonly recipient: string | undefined;
  readonly date: string | undefined;
  readonly letter: readonly string[];
  readonly sections: readonly UpdateSectionView[];
  readonly notice: readonly string[];
}

const sectionCode = (section: CompositionSection, system: string) => section.code?.coding?.find((c) => c.system === system)?.code;

/**
 * The update as its provider receives it. `records` holds the entries' resources by the reference the update names
 * (a frozen `Type/id/_history/n` once submitted, `Type/id` in a draft); an entry not among them reads as something
 * that cannot be shown.
 */
export function updateView(
  update: Composition & { id: string },
  records: ReadonlyMap<string, Resource>,
  words: SharingWords,
  unreadable: string,
  lang: Language,
): UpdateView {
  const letter: string[] = [];
  const notice: string[] = [];
  const sections: UpdateSectionView[] = [];
  for (const section of update.section ?? []) {
    const kind = sectionCode(section, UPDATE_SECTION_SYSTEM);
    if (kind === 'letter') {
      letter.push(...narrativeParagraphs(section.text?.div));
      continue;
    }
    if (kind === 'redisclosure-notice') {
      notice.push(...narrativeParagraphs(section.text?.div));
      continue;
    }
    const category = sectionCode(section, SHARE_CATEGORY_SYSTEM) ?? '';
    sections.push({
      category,
      title: category ? categoryName(category, lang) : (section.title ?? ''),
      entries: (section.entry ?? []).map((entry: Reference) => {
        const record = entry.reference ? records.get(entry.reference) : undefined;
        return record ? describeResource(record, words, lang) : [unreadable];
      }),
    });
  }
  return { id: update.id, state: updateStateOf(update), recipient: recipientOf(update), date: update.date, letter, sections, notice };
}

/** The references an update's sections name, each once. */
export function entryReferences(update: Composition): string[] {
  return [...new Set((update.section ?? []).flatMap((s) => s.entry ?? []).map((e) => e.reference).filter((r): r is string => Boolean(r)))];
}
