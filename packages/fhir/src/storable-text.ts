/**
 * Text the database can hold. PostgreSQL refuses NUL (U+0000) in `text` and `jsonb`, and JSON can smuggle in unpaired
 * UTF-16 surrogates (`"\ud800"`) that no UTF-8 encoding represents; either one, reaching SQL, is a server error. Every
 * caller-supplied string that may reach the database (resource content, search values) is checked with this first,
 * so it answers a 400 instead.
 */

// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `text` holds NUL or an unpaired surrogate, which FHIR does not allow and the database cannot store. */
export function hasUnstorableCharacters(text: string): boolean {
  return text.includes('\u0000') || UNPAIRED_SURROGATE.test(text);
}
