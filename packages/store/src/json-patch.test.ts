import { thrownStatus } from '@carecircle/testing';
import { applyJsonPatch } from './json-patch';
import type { PatchOperation } from './repository';

function statusOfPatch(document: unknown, operations: PatchOperation[]): number | 'ok' {
  return thrownStatus(() => applyJsonPatch(document, operations));
}

describe('applyJsonPatch', () => {
  const doc = { a: { b: [1, 2, 3] }, 'x/y': 1, 'm~n': 2 };

  test('implements add, remove, replace, move, copy and test without touching the input', () => {
    const result = applyJsonPatch(doc, [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'add', path: '/a/b/-', value: 4 },
      { op: 'remove', path: '/a/b/0' },
      { op: 'replace', path: '/x~1y', value: 'slash' },
      { op: 'copy', from: '/m~0n', path: '/c' },
      { op: 'move', from: '/c', path: '/d' },
      { op: 'test', path: '/d', value: 2 },
    ]);
    expect(result).toEqual({ a: { b: [9, 2, 3, 4] }, 'x/y': 'slash', 'm~n': 2, d: 2 });
    expect(doc).toEqual({ a: { b: [1, 2, 3] }, 'x/y': 1, 'm~n': 2 });
  });

  test('a failed test is 422; malformed operations, missing targets and bad indexes are 400', () => {
    expect(statusOfPatch(doc, [{ op: 'test', path: '/a/b', value: [1, 2] }])).toBe(422);
    expect(statusOfPatch(doc, [{ op: 'remove', path: '/nope' }])).toBe(400);
    expect(statusOfPatch(doc, [{ op: 'add', path: '/a/b/7', value: 1 }])).toBe(400);
    expect(statusOfPatch(doc, [{ op: 'add', path: '/a/b/x', value: 1 }])).toBe(400);
    expect(statusOfPatch(doc, [{ op: 'add', path: 'a', value: 1 }])).toBe(400);
    expect(statusOfPatch(doc, [{ op: 'add', path: '/z' }])).toBe(400);
    expect(statusOfPatch(doc, [{ op: 'move', from: '/a', path: '/a/b/0' }])).toBe(400);
    expect(statusOfPatch(doc, [{ op: 'add', path: '/__proto__/polluted', value: 1 }])).toBe(400);
    expect(statusOfPatch(doc, [{ op: 'jump', path: '/a' } as unknown as PatchOperation])).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
