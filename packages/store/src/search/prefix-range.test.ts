import { prefixUpperBound } from './search-query';

test('the upper bound of a prefix is its last code point plus one, so only strings starting with it lie between', () => {
  expect(prefixUpperBound('smith')).toBe('smiti');
  expect(prefixUpperBound('gonzález')).toBe('gonzále{');
  expect(prefixUpperBound('josé')).toBe('josê');
  expect(prefixUpperBound('zoë')).toBe('zoì');
  // A supplementary code point is one character, not two halves.
  expect(prefixUpperBound('a😀')).toBe('a😁');
  // Past the surrogates, and nothing above the last code point.
  expect(prefixUpperBound('\ud7ff')).toBe('\ue000');
  expect(prefixUpperBound('a\u{10ffff}')).toBeUndefined();
  expect(prefixUpperBound('')).toBeUndefined();
  // Every string with the prefix sorts below the bound in byte (text_pattern_ops) order, and the next one does not.
  const bytes = (s: string) => Buffer.from(s, 'utf8');
  for (const name of ['smith', 'smithson', 'smith\u{10ffff}', 'smithé']) {
    expect(Buffer.compare(bytes(name), bytes('smiti'))).toBe(-1);
  }
  expect(Buffer.compare(bytes('smiti'), bytes('smiti'))).toBe(0);
});
