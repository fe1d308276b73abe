/**
 * An accounting entry as a plain sentence in the reader's language: "Harbour Pelvic Health’s system looked at your
 * goals (2 items)", then how it ended: "allowed by what you shared on 1 Nov 2026" (a link to that sharing choice),
 * "not allowed", or "not allowed — tried 1,000 times" for a folded denial. Pure: words from the catalogue, numbers and
 * dates in the language's format.
 */
import { accounting, categoryPhrases } from '../../i18n/accounting';
import type { Language } from '../../i18n/catalogue';
import { categoryName, formatDate } from '../../i18n/categories';
import { portalPath } from '../../views/view-context';
import type { AccountingEntry } from './accounting-entry';

export interface AccountingSentence {
  /** Who did what to which information, with the count of items. */
  readonly text: string;
  /** How it ended: plain text, or a link to the sharing choice that allowed it. */
  readonly ending: { readonly text: string; readonly href?: string };
  /** "tried 1,000 times", for a folded denial. */
  readonly times?: string;
}

/** The sentence of one entry. */
export function accountingSentence(entry: AccountingEntry, lang: Language): AccountingSentence {
  const t = accounting[lang];
  const verb = verbOf(entry, lang);
  const what = entry.categories.length > 0 ? listOf(entry.categories.map((c) => categoryPhrase(c, lang)), lang) : t.partOfRecord;
  const items = entry.items > 0 ? ` (${t.items(formatNumber(entry.items, lang), new Intl.PluralRules(lang).select(entry.items) === 'one')})` : '';
  const text = `${subjectOf(entry, lang)} ${verb} ${what}${items}`;
  if (entry.outcome === 'denied') {
    return { text, ending: { text: t.notAllowed }, ...(entry.times > 1 ? { times: t.tried(formatNumber(entry.times, lang)) } : {}) };
  }
  if (entry.consent) {
    return { text, ending: { text: t.allowedBy(formatDate(entry.consent.date, lang)), href: portalPath(`/sharing/${encodeURIComponent(entry.consent.id)}`) } };
  }
  return { text, ending: { text: t.allowed } };
}

/** Who acted, as the sentence's subject. */
export function subjectOf(entry: AccountingEntry, lang: Language): string {
  const t = accounting[lang];
  const { actor } = entry;
  switch (actor.kind) {
    case 'operator':
      return t.subjectOperator;
    case 'person':
      if (actor.person && actor.provider) {
        return t.subjectPerson(actor.person, actor.provider);
      }
      return actor.person ? t.subjectPersonAlone(actor.person) : actor.provider ? t.subjectSystem(actor.provider) : t.subjectUnknown;
    case 'system':
      return actor.provider ? t.subjectSystem(actor.provider) : t.subjectUnknown;
    default:
      return actor satisfies never;
  }
}

function verbOf(entry: AccountingEntry, lang: Language): string {
  const t = accounting[lang];
  const denied = entry.outcome === 'denied';
  switch (entry.interaction) {
    case 'read':
      return denied ? t.triedRead : t.didRead;
    case 'search':
      return denied ? t.triedSearch : t.didSearch;
    case 'summary':
      return denied ? t.triedSummary : t.didSummary;
    case 'history':
      return denied ? t.triedHistory : t.didHistory;
    case 'notification':
      return denied ? t.triedNotification : t.didNotification;
    default:
      return entry.interaction satisfies never;
  }
}

/** A category as the object of a sentence; a code the portal does not know, by its plain name (or the code). */
function categoryPhrase(code: string, lang: Language): string {
  return (categoryPhrases[lang] as Record<string, string | undefined>)[code] ?? categoryName(code, lang);
}

/** "a, b and c" / "a, b y c". */
export function listOf(parts: readonly string[], lang: Language): string {
  return new Intl.ListFormat(lang === 'es' ? 'es' : 'en-GB', { style: 'long', type: 'conjunction' }).format(parts);
}

/** 1,000 / 1000 (Spanish groups from 10 000 on). */
export function formatNumber(n: number, lang: Language): string {
  return new Intl.NumberFormat(lang === 'es' ? 'es-ES' : 'en-GB').format(n);
}
