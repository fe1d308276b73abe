/**
 * The share and change forms: parsing what a page posts (hidden fields and repeated checkboxes, anything unknown or
 * malformed dropped), the problems of each question (nothing chosen, a date that is not real or not in the future,
 * the signature), and where each posted form leads.
 */
import { CHANGE_STEPS, nextOutcome, NO_ANSWERS, parsePostedForm, problemsOf, returnsToReview, SHARE_STEPS, signatureProblems, typedDate, untilOf } from './consent-answers';

const TODAY = '2026-06-15';
const PROVIDERS = new Set(['Organization/pelvic-pt', 'Organization/obgyn']);
const context = { providers: PROVIDERS, today: TODAY };

const complete = {
  recipient: 'Organization/pelvic-pt',
  category: ['treatment-goals', 'progress'],
  purpose: 'TREAT',
  until: 'date',
  'until-day': '1',
  'until-month': '3',
  'until-year': '2027',
};

describe('parsePostedForm', () => {
  test('reads every answer, repeated checkboxes in the portal order', () => {
    const form = parsePostedForm({ ...complete, category: ['progress', 'treatment-goals'], step: 'period', version: '3', csrf_token: 'x' });
    expect(form.answers).toEqual({
      recipient: 'Organization/pelvic-pt',
      categories: ['treatment-goals', 'progress'],
      purpose: 'TREAT',
      untilKind: 'date',
      day: '1',
      month: '3',
      year: '2027',
    });
    expect(form.step).toBe('period');
    expect(form.version).toBe('3');
    expect(form.back).toBe(false);
  });

  test('a single checkbox is a string; unknown categories, psychotherapy notes and purposes are dropped', () => {
    expect(parsePostedForm({ category: 'progress' }).answers.categories).toEqual(['progress']);
    expect(parsePostedForm({ category: ['psychotherapy-notes', 'nonsense', 'medications'] }).answers.categories).toEqual(['medications']);
    expect(parsePostedForm({ purpose: 'HPAYMT' }).answers.purpose).toBeUndefined();
  });

  test('a recipient that is not a plain directory reference, a step or version that is not ours, are dropped', () => {
    expect(parsePostedForm({ recipient: 'Patient/other' }).answers.recipient).toBeUndefined();
    expect(parsePostedForm({ recipient: 'https://evil.example/Organization/x' }).answers.recipient).toBeUndefined();
    expect(parsePostedForm({ step: 'commit', version: 'W/"3"' })).toMatchObject({ step: undefined, version: undefined });
    expect(parsePostedForm(undefined).answers).toEqual(NO_ANSWERS);
  });

  test('the signature: a trimmed name and the ticked statement', () => {
    expect(parsePostedForm({ 'signature-name': '  Alex Rivera ', 'signature-agree': 'yes' }).signature).toEqual({ name: 'Alex Rivera', agreed: true });
    expect(parsePostedForm({ 'signature-name': ['a', 'b'] }).signature).toEqual({ name: 'a', agreed: false });
  });

  test('a question opened from the review returns to it', () => {
    expect(returnsToReview(parsePostedForm({ step: 'review', goto: 'categories' }))).toBe(true);
    expect(returnsToReview(parsePostedForm({ step: 'review' }))).toBe(false);
    expect(returnsToReview(parsePostedForm({ step: 'purpose', return: 'review' }))).toBe(true);
  });
});

describe('dates', () => {
  test.each([
    [{ day: '1', month: '3', year: '2027' }, '2027-03-01'],
    [{ day: '29', month: '2', year: '2028' }, '2028-02-29'],
    [{ day: '29', month: '2', year: '2027' }, undefined],
    [{ day: '31', month: '4', year: '2027' }, undefined],
    [{ day: '1', month: '13', year: '2027' }, undefined],
    [{ day: 'x', month: '3', year: '2027' }, undefined],
    [{ day: '1', month: '3', year: '27' }, undefined],
  ])('%j is %s', (fields, expected) => {
    expect(typedDate(fields)).toBe(expected);
  });

  test('the end is usable only in the future, or open', () => {
    const answers = parsePostedForm(complete).answers;
    expect(untilOf(answers, TODAY)).toEqual({ kind: 'date', date: '2027-03-01' });
    expect(untilOf({ ...answers, year: '2026', month: '6', day: '15' }, TODAY)).toBeUndefined();
    expect(untilOf({ ...answers, untilKind: 'open' }, TODAY)).toEqual({ kind: 'open' });
  });
});

describe('problemsOf', () => {
  const answers = parsePostedForm(complete).answers;

  test('complete answers have no problem', () => {
    for (const step of ['provider', 'categories', 'purpose', 'period'] as const) {
      expect(problemsOf(step, answers, context)).toEqual([]);
    }
  });

  test('nothing chosen, or a provider not in the directory, is named on its first field', () => {
    expect(problemsOf('provider', { ...answers, recipient: undefined }, context)).toEqual([{ field: 'recipient', code: 'providerMissing' }]);
    expect(problemsOf('provider', { ...answers, recipient: 'Organization/elsewhere' }, context)).toEqual([{ field: 'recipient', code: 'providerMissing' }]);
    expect(problemsOf('categories', { ...answers, categories: [] }, context)).toEqual([{ field: 'category', code: 'categoriesMissing' }]);
    expect(problemsOf('purpose', { ...answers, purpose: undefined }, context)).toEqual([{ field: 'purpose', code: 'purposeMissing' }]);
  });

  test.each([
    [{ untilKind: undefined }, 'untilMissing', 'until'],
    [{ day: '', month: '', year: '' }, 'dateMissing', 'until-day'],
    [{ day: '31', month: '2' }, 'dateInvalid', 'until-day'],
    [{ day: '15', month: '6', year: '2026' }, 'dateNotFuture', 'until-day'],
    [{ day: '1', month: '1', year: '2020' }, 'dateNotFuture', 'until-day'],
  ] as const)('period %j: %s', (change, code, field) => {
    expect(problemsOf('period', { ...answers, ...change }, context)).toEqual([{ field, code }]);
  });

  test('the signature needs the statement ticked and a name', () => {
    expect(signatureProblems({ name: '', agreed: false })).toEqual([
      { field: 'signature-agree', code: 'statementUnticked' },
      { field: 'signature-name', code: 'nameMissing' },
    ]);
    expect(signatureProblems({ name: 'x'.repeat(201), agreed: true })).toEqual([{ field: 'signature-name', code: 'nameTooLong' }]);
    expect(signatureProblems({ name: 'Alex Rivera', agreed: true })).toEqual([]);
  });
});

describe('nextOutcome', () => {
  const post = (fields: Record<string, unknown>) => nextOutcome(SHARE_STEPS, parsePostedForm(fields), context);

  test('a good answer leads to the next question; a bad one shows the same step with its problem', () => {
    expect(post({ step: 'provider', recipient: 'Organization/obgyn' })).toEqual({ kind: 'show', step: 'categories', problems: [] });
    expect(post({ step: 'provider' })).toEqual({ kind: 'show', step: 'provider', problems: [{ field: 'recipient', code: 'providerMissing' }] });
    expect(post({ ...complete, step: 'period' })).toEqual({ kind: 'show', step: 'review', problems: [] });
  });

  test('Back goes to the step before, unchecked', () => {
    expect(post({ step: 'purpose', back: '1' })).toEqual({ kind: 'show', step: 'categories', problems: [] });
    expect(post({ ...complete, step: 'sign', back: '1' })).toEqual({ kind: 'show', step: 'review', problems: [] });
  });

  test('Change on the review opens its question; answering it returns to the review', () => {
    expect(post({ ...complete, step: 'review', goto: 'categories' })).toEqual({ kind: 'show', step: 'categories', problems: [] });
    expect(post({ ...complete, step: 'categories', return: 'review' })).toEqual({ kind: 'show', step: 'review', problems: [] });
    expect(post({ ...complete, step: 'review' })).toEqual({ kind: 'show', step: 'sign', problems: [] });
  });

  test('the review and the signature need every answer: a tampered form shows the first question that is wrong', () => {
    expect(post({ ...complete, purpose: 'nonsense', step: 'period' })).toEqual({ kind: 'show', step: 'purpose', problems: [{ field: 'purpose', code: 'purposeMissing' }] });
    expect(post({ ...complete, 'until-year': '2020', step: 'sign', 'signature-name': 'A', 'signature-agree': 'yes' })).toMatchObject({ step: 'period' });
  });

  test('only a complete signature commits', () => {
    expect(post({ ...complete, step: 'sign', 'signature-name': 'Alex Rivera' })).toEqual({
      kind: 'show',
      step: 'sign',
      problems: [{ field: 'signature-agree', code: 'statementUnticked' }],
    });
    expect(post({ ...complete, step: 'sign', 'signature-name': 'Alex Rivera', 'signature-agree': 'yes' })).toEqual({ kind: 'commit' });
  });

  test('a form without a step of this flow starts at its first step; changing has no provider step', () => {
    expect(post({})).toEqual({ kind: 'show', step: 'provider', problems: [] });
    expect(nextOutcome(CHANGE_STEPS, parsePostedForm({ step: 'provider' }), context)).toEqual({ kind: 'show', step: 'categories', problems: [] });
  });
});
