/**
 * A consent's terms in plain sentences, in the reader's language: the categories as a list ("your goals and how
 * things are going"), the purpose, the end, and the statement a client signs. Pure: words from the catalogues.
 */
import { categoryName, formatDate, purposeName, type ShareableCategory } from '../../i18n/categories';
import type { Language } from '../../i18n/catalogue';
import { shareWords } from '../../i18n/share';
import type { Until } from './consent-answers';
import type { ConsentTerms } from './consent-resource';

/** A name as it reads inside a sentence: its first letter in lower case ("Your goals" -> "your goals"). */
export function inSentence(words: string, lang: Language): string {
  return words.charAt(0).toLocaleLowerCase(lang) + words.slice(1);
}

/** "a, b and c" / "a, b y c". */
export function listOf(items: readonly string[], lang: Language): string {
  return new Intl.ListFormat(lang, { style: 'long', type: 'conjunction' }).format(items);
}

/** The categories as one phrase inside a sentence. */
export function categoriesPhrase(categories: readonly ShareableCategory[], lang: Language): string {
  return listOf(
    categories.map((c) => inSentence(categoryName(c, lang), lang)),
    lang,
  );
}

/** The end, as a row of a summary says it: "Until you stop it" / "1 Mar 2027". */
export function untilWords(until: Until, lang: Language): string {
  return until.kind === 'open' ? shareWords[lang].untilOpenWords : shareWords[lang].untilDateWords(formatDate(until.date, lang));
}

/** The end inside the signed statement: "until I stop it" / "until 1 Mar 2027". */
export function untilPhrase(until: Until, lang: Language): string {
  return until.kind === 'open' ? shareWords[lang].untilPhraseOpen : shareWords[lang].untilPhraseDate(formatDate(until.date, lang));
}

/** The purpose as a row says it ("To treat you"); a consent with another purpose says so. */
export function purposeWords(purpose: string | undefined, lang: Language): string {
  return purposeName(purpose ?? 'other', lang);
}

/** The statement a client signs to share with a new provider. */
export function shareStatement(terms: ConsentTerms, provider: string, lang: Language): string {
  return shareWords[lang].statement(categoriesPhrase(terms.categories, lang), provider, inSentence(purposeWords(terms.purpose, lang), lang), untilPhrase(terms.until, lang));
}

/** The statement a client signs to change what a provider sees (the whole new terms, not only the difference). */
export function changeStatement(terms: ConsentTerms, provider: string, lang: Language): string {
  return shareWords[lang].statementChange(provider, categoriesPhrase(terms.categories, lang), inSentence(purposeWords(terms.purpose, lang), lang), untilPhrase(terms.until, lang));
}
