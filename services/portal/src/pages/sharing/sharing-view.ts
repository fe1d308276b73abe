/**
 * The sharing pages' view data: consent facts and the recipient directory turned into the words a card, the details
 * page and the history show, in the reader's language. Pure, so the templates only lay out what is here.
 */
import type { Consent } from '@medplum/fhirtypes';
import type { Language } from '../../i18n/catalogue';
import { categoryName, categoryWords, formatDate, formatDateTime, NEVER_SHARED_CATEGORY, purposeName } from '../../i18n/categories';
import { sharingWords, type SharingWords } from '../../i18n/sharing';
import { consentFacts, orderConsents, type ConsentFacts, type HistoryEvent, type PeriodFacts, type SharingStatus, type VersionAuthor } from './consent-facts';
import type { RecipientDirectory } from './recipient-directory';

export interface CategoryLine {
  readonly code: string;
  readonly name: string;
  readonly contains: string;
}

export interface SharingCard {
  readonly id: string;
  readonly recipientName: string;
  readonly recipientKind: string;
  readonly categories: readonly CategoryLine[];
  /** Therapy session notes, with why they are never shared. */
  readonly neverShared: { readonly name: string; readonly why: string };
  readonly purpose: string;
  readonly from: string;
  readonly until: string;
  readonly status: SharingStatus;
  readonly statusText: string;
  /** The reminder when it ends within 30 days. */
  readonly endingReminder: string | undefined;
  /** Whether it can still be changed or stopped (in force or not started yet). */
  readonly changeable: boolean;
}

export interface OverviewView {
  readonly endingSoon: readonly SharingCard[];
  readonly current: readonly SharingCard[];
  readonly past: readonly SharingCard[];
}

/** "A, B and C" in the reader's language. */
export function listWords(items: readonly string[], words: SharingWords): string {
  if (items.length <= 1) {
    return items[0] ?? '';
  }
  return `${items.slice(0, -1).join(', ')} ${words.and} ${items.at(-1) ?? ''}`;
}

/** The recipients' names, joined. */
export function recipientNameOf(facts: ConsentFacts, directory: RecipientDirectory, words: SharingWords): string {
  const names = facts.recipients.map((r) => directory.get(r)?.name ?? words.unknownRecipient);
  return names.length > 0 ? listWords([...new Set(names)], words) : words.unknownRecipient;
}

function recipientKindOf(facts: ConsentFacts, directory: RecipientDirectory, words: SharingWords): string {
  const kinds = facts.recipients.map((r) => directory.get(r)?.kind).filter((k): k is string => Boolean(k));
  return kinds.length > 0 ? listWords([...new Set(kinds)], words) : words.providerKindUnknown;
}

function categoryLines(codes: readonly string[], lang: Language): CategoryLine[] {
  const all = categoryWords[lang] as Record<string, { name: string; contains: string } | undefined>;
  return codes.map((code) => ({ code, name: all[code]?.name ?? code, contains: all[code]?.contains ?? '' }));
}

function statusText(facts: ConsentFacts, words: SharingWords, lang: Language): string {
  switch (facts.status) {
    case 'active':
      return words.statusActive;
    case 'not-started':
      return facts.start ? words.statusStarts(formatDate(facts.start, lang)) : words.statusNotStarted;
    case 'ended':
      return facts.end ? words.statusSince(words.statusEnded, formatDate(facts.end, lang)) : words.statusEnded;
    case 'stopped':
      return facts.lastUpdated ? words.statusSince(words.statusStopped, formatDate(facts.lastUpdated, lang)) : words.statusStopped;
    default:
      return facts.status satisfies never;
  }
}

/** The words of one sharing. */
export function sharingCard(facts: ConsentFacts, directory: RecipientDirectory, lang: Language): SharingCard {
  const words = sharingWords[lang];
  const name = recipientNameOf(facts, directory, words);
  const notes = categoryWords[lang][NEVER_SHARED_CATEGORY];
  return {
    id: facts.id,
    recipientName: name,
    recipientKind: recipientKindOf(facts, directory, words),
    categories: categoryLines(facts.categories, lang),
    neverShared: { name: notes.name, why: `${notes.contains} ${notes.example}` },
    purpose: facts.purposes.length > 0 ? listWords(facts.purposes.map((p) => purposeName(p, lang)), words) : purposeName('TREAT', lang),
    from: facts.start ? formatDate(facts.start, lang) : words.fromTheStart,
    until: facts.end ? formatDate(facts.end, lang) : words.untilYouStop,
    status: facts.status,
    statusText: statusText(facts, words, lang),
    endingReminder:
      facts.endsInDays !== undefined && facts.end ? words.endingReminder(name, formatDate(facts.end, lang), facts.endsInDays) : undefined,
    changeable: facts.status === 'active' || facts.status === 'not-started',
  };
}

/** The overview: ending soon first, then the rest in force, then what stopped or ended. */
export function overviewView(consents: readonly Consent[], directory: RecipientDirectory, lang: Language, now: Date): OverviewView {
  const words = sharingWords[lang];
  const facts = consents.map((c) => consentFacts(c, now));
  const ordered = orderConsents(facts, (f) => recipientNameOf(f, directory, words));
  const card = (f: ConsentFacts) => sharingCard(f, directory, lang);
  return { endingSoon: ordered.endingSoon.map(card), current: ordered.current.map(card), past: ordered.past.map(card) };
}

export interface HistoryLine {
  /** When, readable; undefined when unknown. */
  readonly when: string | undefined;
  /** The machine-readable moment for <time>. */
  readonly datetime: string | undefined;
  /** Who, readable ("You", "Your practice"); undefined when the record does not tell. */
  readonly who: string | undefined;
  readonly sentence: string;
  readonly details: readonly string[];
}

function periodWords(period: PeriodFacts, words: SharingWords, lang: Language): string {
  return words.periodWords(period.start ? formatDate(period.start, lang) : words.fromTheStart, period.end ? formatDate(period.end, lang) : words.untilYouStop);
}

type Sentences = Record<VersionAuthor, (name: string) => string>;

function byAuthor(words: SharingWords, kind: 'Given' | 'Changed' | 'Stopped' | 'Restarted'): Sentences {
  return {
    you: words[`history${kind}You`],
    practice: words[`history${kind}Practice`],
    signed: words[`history${kind}Signed`],
    unknown: words[`history${kind}Unknown`],
  };
}

/** The history in sentences, oldest first. */
export function historyLines(events: readonly HistoryEvent[], recipientName: string, lang: Language): HistoryLine[] {
  const words = sharingWords[lang];
  const names = (codes: readonly string[]) => listWords(codes.map((c) => categoryName(c, lang)), words);
  return events.map((event) => {
    const by = event.by ?? 'unknown';
    const who = by === 'you' ? words.byYou : by === 'practice' ? words.byPractice : undefined;
    const when = event.change.kind === 'ended' ? formatDate(event.change.end, lang) : event.at ? formatDateTime(event.at, lang) : undefined;
    const base = { when, datetime: event.at, who };
    const change = event.change;
    switch (change.kind) {
      case 'given':
        return {
          ...base,
          sentence: byAuthor(words, 'Given')[by](recipientName),
          details: [words.historyShared(change.categories.length > 0 ? names(change.categories) : words.nothingListed), periodWords(change, words, lang)],
        };
      case 'changed': {
        const details = [
          ...(change.added.length > 0 ? [words.historyAdded(names(change.added))] : []),
          ...(change.removed.length > 0 ? [words.historyRemoved(names(change.removed))] : []),
          ...(change.period ? [words.historyPeriod(periodWords(change.period.before, words, lang), periodWords(change.period.after, words, lang))] : []),
          ...(change.purposes
            ? [words.historyPurpose(listWords(change.purposes.before.map((p) => purposeName(p, lang)), words), listWords(change.purposes.after.map((p) => purposeName(p, lang)), words))]
            : []),
        ];
        return { ...base, sentence: byAuthor(words, 'Changed')[by](recipientName), details: details.length > 0 ? details : [words.historySavedAgain] };
      }
      case 'stopped':
        return { ...base, sentence: byAuthor(words, 'Stopped')[by](recipientName), details: [] };
      case 'restarted':
        return { ...base, sentence: byAuthor(words, 'Restarted')[by](recipientName), details: [] };
      case 'ended':
        return { ...base, datetime: change.end, who: undefined, sentence: words.historyEnded(recipientName), details: [] };
      default:
        return change satisfies never;
    }
  });
}
