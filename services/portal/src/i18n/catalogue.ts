/**
 * The portal's words: every message in English and Spanish, in catalogues per area of the portal (common.ts, and one
 * beside each group of pages). A catalogue is written once in English; its Spanish twin is typed as the English one,
 * so a missing key or a message with other parameters fails the typecheck, and catalogue.test.ts fails on an empty one.
 * Messages with values are functions of those values, so a page cannot forget one; what they return is plain text,
 * escaped by the templates like everything else.
 */

/** The languages the portal speaks; the first is the fallback. */
export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A message: text, or a function of the values it names. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each message names its own parameter types
export type Message = string | ((...args: any[]) => string);

export type Messages = Record<string, Message>;

/** One area's words in every language: the Spanish typed as the English, so both have the same keys and shapes. */
export interface Catalogue<M extends object> {
  readonly en: M;
  readonly es: M;
}

/** Declares a catalogue (the English infers the type the Spanish must match). */
export function defineCatalogue<M extends object>(en: M, es: NoInfer<M>): Catalogue<M> {
  return { en, es };
}

/** True for a supported language tag. */
export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

/**
 * The language an `Accept-Language` header prefers among ours (RFC 9110 §12.5.4 weights; primary subtag only), else
 * English.
 */
export function negotiateLanguage(header: string | undefined): Language {
  if (!header) {
    return 'en';
  }
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const weight = q ? Number(q.slice(2)) : 1;
      return { primary: tag.toLowerCase().split('-')[0] ?? '', weight: Number.isFinite(weight) ? weight : 0, index };
    })
    .filter((r) => r.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.index - b.index);
  for (const r of ranked) {
    if (isLanguage(r.primary)) {
      return r.primary;
    }
    if (r.primary === '*') {
      return 'en';
    }
  }
  return 'en';
}
