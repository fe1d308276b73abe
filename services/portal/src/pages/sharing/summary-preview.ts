/**
 * What a provider sees, readably: the `$summary` document the API would give that recipient now, turned into
 * sections by share category with one plain sentence (and a few detail lines) per entry, built from the resources'
 * structured data, never from their narrative HTML and never as codes. References the recipient may not follow
 * (masked by the API) read "(something not shared with them)". Pure: the loader fetches the Bundle.
 */
import type { Bundle, CodeableConcept, Reference, Resource } from '@medplum/fhirtypes';
import type { Language } from '../../i18n/catalogue';
import { categoryName, formatDate, SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import type { SharingWords } from '../../i18n/sharing';
import { conceptText, personName } from './recipient-directory';

const DATA_ABSENT_REASON = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

export interface PreviewEntry {
  /** The entry's sentence, then its details (dose, notes, steps), each one line. */
  readonly lines: readonly string[];
}

export interface PreviewSection {
  /** The share category's code. */
  readonly category: string;
  readonly title: string;
  readonly entries: readonly PreviewEntry[];
}

export interface SummaryPreview {
  /** The client's own details (the Patient resource every recipient with an active consent sees). */
  readonly aboutYou: readonly PreviewEntry[];
  readonly sections: readonly PreviewSection[];
  /** Categories the consent shares that hold nothing the recipient sees today. */
  readonly emptyCategories: readonly string[];
}

/** True for a Reference the API reduced to the "masked" marker. */
export function isMaskedReference(value: unknown): boolean {
  const ext = (value as { extension?: unknown } | null)?.extension;
  return (
    Array.isArray(ext) &&
    ext.some((e: { url?: unknown; valueCode?: unknown }) => e?.url === DATA_ABSENT_REASON && e.valueCode === 'masked') &&
    (value as Reference).reference === undefined
  );
}

/** How many masked references `value` holds anywhere (the resource's own id and meta aside). */
export function countMaskedReferences(value: unknown): number {
  if (Array.isArray(value)) {
    return value.reduce<number>((n, v) => n + countMaskedReferences(v), 0);
  }
  if (value === null || typeof value !== 'object') {
    return 0;
  }
  if (isMaskedReference(value)) {
    return 1;
  }
  return Object.entries(value).reduce((n, [k, v]) => (k === 'meta' || k === 'text' ? n : n + countMaskedReferences(v)), 0);
}

/**
 * The preview of `bundle` (a `$summary` document: Composition first) for a consent sharing `sharedCategories`, in
 * `words`' language.
 */
export function buildSummaryPreview(bundle: Bundle, sharedCategories: readonly string[], words: SharingWords, lang: Language): SummaryPreview {
  const resources = (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Resource => Boolean(r));
  const composition = resources.find((r) => r.resourceType === 'Composition');
  const byRef = new Map<string, Resource>();
  for (const r of resources) {
    if (r.id) {
      byRef.set(`${r.resourceType}/${r.id}`, r);
    }
  }
  const resolve = (ref: Reference): Resource | undefined => {
    const value = ref.reference;
    if (!value) {
      return undefined;
    }
    const match = /([A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(value);
    return match ? byRef.get(match[1] ?? '') : undefined;
  };
  const referenced = new Set<Resource>();
  const sections: PreviewSection[] = [];
  for (const section of composition?.resourceType === 'Composition' ? (composition.section ?? []) : []) {
    const category = section.code?.coding?.find((c) => c.system === SHARE_CATEGORY_SYSTEM)?.code ?? '';
    const entries: PreviewEntry[] = [];
    for (const ref of section.entry ?? []) {
      if (isMaskedReference(ref)) {
        entries.push({ lines: [words.masked] });
        continue;
      }
      const resource = resolve(ref);
      if (resource) {
        referenced.add(resource);
        entries.push({ lines: describeResource(resource, words, lang) });
      }
    }
    if (entries.length > 0) {
      sections.push({ category, title: category ? categoryName(category, lang) : (section.title ?? words.entryOther), entries });
    }
  }
  const aboutYou = resources.filter((r) => r.resourceType === 'Patient' && !referenced.has(r)).map((r) => ({ lines: describeResource(r, words, lang) }));
  const shown = new Set(sections.map((s) => s.category));
  const emptyCategories = sharedCategories.filter((c) => !shown.has(c) && !(c === 'demographics' && aboutYou.length > 0));
  return { aboutYou, sections, emptyCategories };
}

function date(value: string | undefined, lang: Language): string | undefined {
  if (!value) {
    return undefined;
  }
  if (/^\d{4}$/.test(value)) {
    return value;
  }
  const full = /^\d{4}-\d{2}$/.test(value) ? `${value}-01` : value;
  return Number.isNaN(new Date(full).getTime()) ? value : formatDate(full, lang);
}

function text(concept: CodeableConcept | undefined): string | undefined {
  return conceptText(concept);
}

function quantityText(q: { value?: number; unit?: string; code?: string } | undefined): string | undefined {
  if (q?.value === undefined) {
    return undefined;
  }
  return [String(q.value), q.unit ?? ''].join(' ').trim();
}

/** A readable value of an Observation (or a component): string, quantity, concept, boolean, number, period, date. */
function observationValue(o: Record<string, unknown>, words: SharingWords, lang: Language): string | undefined {
  if (typeof o.valueString === 'string') {
    return o.valueString;
  }
  if (o.valueQuantity) {
    return quantityText(o.valueQuantity as { value?: number; unit?: string });
  }
  if (o.valueCodeableConcept) {
    return text(o.valueCodeableConcept as CodeableConcept);
  }
  if (typeof o.valueBoolean === 'boolean') {
    return o.valueBoolean ? words.yes : words.no;
  }
  if (typeof o.valueInteger === 'number') {
    return String(o.valueInteger);
  }
  if (typeof o.valueDateTime === 'string') {
    return date(o.valueDateTime, lang);
  }
  if (o.valueRange) {
    const r = o.valueRange as { low?: { value?: number; unit?: string }; high?: { value?: number; unit?: string } };
    return [quantityText(r.low), quantityText(r.high)].filter(Boolean).join(' – ') || undefined;
  }
  return undefined;
}

function withMasked(lines: string[], resource: Resource, words: SharingWords): string[] {
  const masked = countMaskedReferences(resource);
  for (let i = 0; i < masked; i++) {
    lines.push(words.entryRelatedTo(words.masked));
  }
  return lines;
}

function notes(resource: { note?: { text?: string }[] }, words: SharingWords): string[] {
  return (resource.note ?? []).map((n) => n.text?.trim()).filter((t): t is string => Boolean(t)).map((t) => words.entryNote(t));
}

/** The lines that say what `resource` holds: a sentence first, then details. */
export function describeResource(resource: Resource, words: SharingWords, lang: Language): string[] {
  switch (resource.resourceType) {
    case 'Patient': {
      const lines: string[] = [];
      const name = personName(resource.name);
      if (name) {
        lines.push(words.entryName(name));
      }
      const born = date(resource.birthDate, lang);
      if (born) {
        lines.push(words.entryBirthDate(born));
      }
      for (const t of resource.telecom ?? []) {
        if (!t.value) {
          continue;
        }
        lines.push(t.system === 'phone' || t.system === 'sms' ? words.entryPhone(t.value) : t.system === 'email' ? words.entryEmail(t.value) : words.entryContact(t.value));
      }
      return lines.length > 0 ? lines : [words.entryNoDescription];
    }
    case 'Condition': {
      const what = text(resource.code) ?? words.entryNoDescription;
      const onset = date(resource.onsetDateTime ?? resource.onsetPeriod?.start ?? resource.recordedDate, lang);
      const lines = [onset ? words.entrySince(what, onset) : what, ...notes(resource, words)];
      return withMasked(lines, resource, words);
    }
    case 'Observation': {
      const what = text(resource.code) ?? words.entryNoDescription;
      const value = observationValue(resource as unknown as Record<string, unknown>, words, lang);
      const sentence = value ? words.entryValue(what, value) : what;
      const when = date(resource.effectiveDateTime ?? resource.effectivePeriod?.start ?? resource.issued, lang);
      const lines = [when ? words.entryOn(sentence, when) : sentence];
      for (const c of resource.component ?? []) {
        const cv = observationValue(c as unknown as Record<string, unknown>, words, lang);
        const cw = text(c.code);
        if (cw && cv) {
          lines.push(words.entryValue(cw, cv));
        }
      }
      return withMasked([...lines, ...notes(resource, words)], resource, words);
    }
    case 'Goal': {
      const what = text(resource.description) ?? words.entryNoDescription;
      const due = date(resource.target?.find((t) => t.dueDate)?.dueDate, lang);
      return withMasked([due ? words.entryGoalBy(what, due) : words.entryGoal(what), ...notes(resource, words)], resource, words);
    }
    case 'CarePlan': {
      const what = resource.title?.trim() || resource.description?.trim() || words.entryNoDescription;
      const lines = [words.entryPlan(what)];
      if (resource.title && resource.description) {
        lines.push(resource.description);
      }
      for (const a of resource.activity ?? []) {
        const step = a.detail?.description?.trim() || text(a.detail?.code) || a.progress?.[0]?.text;
        if (step) {
          lines.push(words.entryActivity(step));
        } else if (isMaskedReference(a.reference)) {
          lines.push(words.entryActivity(words.masked));
        }
      }
      const masked = countMaskedReferences(resource) - (resource.activity ?? []).filter((a) => isMaskedReference(a.reference) && !a.detail).length;
      for (let i = 0; i < masked; i++) {
        lines.push(words.entryRelatedTo(words.masked));
      }
      return [...lines, ...notes(resource, words)];
    }
    case 'MedicationStatement':
    case 'MedicationRequest': {
      const medication = text(resource.medicationCodeableConcept) ?? resource.medicationReference?.display ?? words.entryNoDescription;
      const doses = (resource.resourceType === 'MedicationStatement' ? resource.dosage : resource.dosageInstruction) ?? [];
      const lines = [words.entryMedicine(medication), ...doses.map((d) => d.text?.trim()).filter((t): t is string => Boolean(t)).map((t) => words.entryDose(t))];
      return withMasked([...lines, ...notes(resource, words)], resource, words);
    }
    case 'DocumentReference': {
      const what = resource.description?.trim() || text(resource.type) || words.entryNoDescription;
      const when = date(resource.date, lang);
      return withMasked([when ? words.entryOn(words.entryDocument(what), when) : words.entryDocument(what)], resource, words);
    }
    case 'Communication': {
      const message = (resource.payload ?? []).map((p) => p.contentString?.trim()).filter(Boolean).join(' ') || words.entryNoDescription;
      const when = date(resource.sent, lang);
      return withMasked([when ? words.entryOn(words.entryMessage(message), when) : words.entryMessage(message)], resource, words);
    }
    case 'ServiceRequest': {
      const what = text(resource.code) ?? words.entryNoDescription;
      const when = date(resource.authoredOn, lang);
      return withMasked([when ? words.entryOn(words.entryReferral(what), when) : words.entryReferral(what), ...notes(resource, words)], resource, words);
    }
    case 'CareTeam': {
      const lines = [words.entryTeam(resource.name?.trim() || words.entryNoDescription)];
      for (const p of resource.participant ?? []) {
        if (p.member?.display) {
          lines.push(words.entryTeamMember(p.member.display));
        }
      }
      return withMasked(lines, resource, words);
    }
    case 'Task': {
      const what = resource.description?.trim() || text(resource.code) || words.entryNoDescription;
      return withMasked([what], resource, words);
    }
    default:
      return withMasked([text((resource as { code?: CodeableConcept }).code) ?? words.entryOther], resource, words);
  }
}
