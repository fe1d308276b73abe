/**
 * Every catalogue in this folder speaks English and Spanish completely: the same keys at every depth, no empty
 * message, and a message that takes values takes as many in both languages. (The typecheck catches most of this; this
 * test also catches a catalogue that bypassed defineCatalogue, and empty strings.)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { negotiateLanguage } from './catalogue';

type Tree = Record<string, unknown>;

function problems(en: unknown, es: unknown, path: string): string[] {
  if (typeof en === 'string' || typeof es === 'string') {
    if (typeof en !== 'string' || typeof es !== 'string') {
      return [`${path}: a string in one language only`];
    }
    return en.trim() && es.trim() ? [] : [`${path}: empty`];
  }
  if (typeof en === 'function' || typeof es === 'function') {
    if (typeof en !== 'function' || typeof es !== 'function') {
      return [`${path}: a function in one language only`];
    }
    return en.length === es.length ? [] : [`${path}: takes ${en.length} values in English, ${es.length} in Spanish`];
  }
  const a = en as Tree;
  const b = es as Tree;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) =>
    !(k in a) ? [`${path}.${k}: missing in English`] : !(k in b) ? [`${path}.${k}: missing in Spanish`] : problems(a[k], b[k], `${path}.${k}`),
  );
}

const catalogueFiles = readdirSync(__dirname).filter((f) => /\.ts$/.test(f) && !/\.test\.ts$/.test(f) && f !== 'catalogue.ts');

describe('message catalogues', () => {
  test.each(catalogueFiles)('%s is complete in English and Spanish', async (file) => {
    const mod = (await import(join(__dirname, file))) as Record<string, unknown>;
    const catalogues = Object.entries(mod).filter(
      ([, v]) => typeof v === 'object' && v !== null && 'en' in v && 'es' in v,
    ) as [string, { en: unknown; es: unknown }][];
    expect(catalogues.length).toBeGreaterThan(0);
    for (const [name, c] of catalogues) {
      expect(problems(c.en, c.es, name)).toEqual([]);
    }
  });

  test('the missing-key check finds a key missing in Spanish', () => {
    expect(problems({ a: 'x', b: 'y' }, { a: 'x' }, 'c')).toEqual(['c.b: missing in Spanish']);
  });
});

describe('negotiateLanguage', () => {
  test.each([
    [undefined, 'en'],
    ['es-ES,es;q=0.9,en;q=0.8', 'es'],
    ['en-US,en;q=0.9,es;q=0.8', 'en'],
    ['fr-FR,fr;q=0.9,es;q=0.5', 'es'],
    ['fr, de', 'en'],
    ['es;q=0, en;q=0.1', 'en'],
  ])('%s -> %s', (header, expected) => {
    expect(negotiateLanguage(header)).toBe(expected);
  });
});
