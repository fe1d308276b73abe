import { chooseSignInLocale, SIGN_IN_CATALOGUES, SIGN_IN_LOCALES } from './sign-in-messages';

/** Every message of a catalogue as text (functions called with a marker for each value), keyed by its path. */
function flatten(catalogue: object, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [key, value] of Object.entries(catalogue)) {
    const path = `${prefix}${key}`;
    if (typeof value === 'function') {
      flat.set(path, (value as (...args: string[]) => string)(...Array.from({ length: value.length }, (_, i) => `{${i}}`)));
    } else if (typeof value === 'object' && value !== null) {
      for (const [nested, text] of flatten(value as object, `${path}.`)) {
        flat.set(nested, text);
      }
    } else {
      flat.set(path, String(value));
    }
  }
  return flat;
}

describe('the sign-in pages\' message catalogue', () => {
  const english = flatten(SIGN_IN_CATALOGUES.en);

  test.each(SIGN_IN_LOCALES)('%s has every key the English has, and no other, each non-empty with the same values', (locale) => {
    const messages = flatten(SIGN_IN_CATALOGUES[locale]);
    expect([...messages.keys()].sort()).toEqual([...english.keys()].sort());
    for (const [key, text] of messages) {
      expect({ key, empty: text.trim() === '' }).toEqual({ key, empty: false });
      const placeholders = (s: string) => (s.match(/\{\d\}/g) ?? []).sort();
      expect({ key, placeholders: placeholders(text) }).toEqual({ key, placeholders: placeholders(english.get(key) ?? '') });
    }
  });

  test('the page title says nothing but CareCircle, in every language', () => {
    for (const locale of SIGN_IN_LOCALES) {
      expect(SIGN_IN_CATALOGUES[locale].pageTitle).toBe('CareCircle');
    }
  });
});

describe('chooseSignInLocale', () => {
  test.each<[string | undefined, string | undefined, string]>([
    [undefined, undefined, 'en'],
    ['es', undefined, 'es'],
    ['fr-CA es-MX en', undefined, 'es'],
    ['fr', 'es-ES,es;q=0.9', 'es'],
    ['en', 'es', 'en'],
    [undefined, 'fr-FR, es;q=0.8, en;q=0.5', 'es'],
    [undefined, 'en;q=0.5, es;q=0.9', 'es'],
    [undefined, 'es;q=0, en', 'en'],
    [undefined, 'fr, *;q=0.5', 'en'],
    [undefined, 'de', 'en'],
    ['', 'ES-mx', 'es'],
  ])('ui_locales %p, Accept-Language %p: %s', (uiLocales, acceptLanguage, expected) => {
    expect(chooseSignInLocale(uiLocales, acceptLanguage)).toBe(expected);
  });
});
