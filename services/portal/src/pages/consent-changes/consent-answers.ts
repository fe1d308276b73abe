/**
 * The answers of the share and change questions, as the forms carry them: every page's form posts all answers given
 * so far (the visible field of its own question, hidden fields for the others), so nothing lives in the URL or the
 * session. This module parses such a body into typed answers, says which step comes next, and finds what is missing
 * or wrong in one step (problem codes, worded by the share catalogue). Pure: no I/O, no words.
 */
import { OFFERED_PURPOSES, SHAREABLE_CATEGORIES, type OfferedPurpose, type ShareableCategory } from '../../i18n/categories';

/** The question steps, in order, and the two steps after them. */
export const QUESTION_STEPS = ['provider', 'categories', 'purpose', 'period'] as const;
export type QuestionStep = (typeof QUESTION_STEPS)[number];
export type Step = QuestionStep | 'review' | 'sign';

/** The steps of sharing with a new provider, and of changing what one sees (the provider is fixed then). */
export const SHARE_STEPS: readonly Step[] = ['provider', 'categories', 'purpose', 'period', 'review', 'sign'];
export const CHANGE_STEPS: readonly Step[] = ['categories', 'purpose', 'period', 'review', 'sign'];

/** How long sharing lasts: until the client stops it, or through a last day (`YYYY-MM-DD`, inclusive). */
export type Until = { readonly kind: 'open' } | { readonly kind: 'date'; readonly date: string };

/** What the client chose. */
export interface Answers {
  /** `Organization/{id}` (or Practitioner / PractitionerRole) of the directory; fixed when changing. */
  readonly recipient: string | undefined;
  readonly categories: readonly ShareableCategory[];
  readonly purpose: OfferedPurpose | undefined;
  /** 'open' or 'date' as chosen; the date fields as typed, to show them again. */
  readonly untilKind: 'open' | 'date' | undefined;
  readonly day: string;
  readonly month: string;
  readonly year: string;
}

/** The signature of the last step. */
export interface Signature {
  readonly name: string;
  readonly agreed: boolean;
}

/** A posted form: the answers, the signature, and where the client is in the steps. */
export interface PostedForm {
  readonly answers: Answers;
  readonly signature: Signature;
  /** The step whose form was sent. */
  readonly step: Step | undefined;
  /** A step asked for by a button (Change on the review, Back). */
  readonly goto: Step | undefined;
  readonly back: boolean;
  /** Set when a question was opened from the review: answering it goes back to the review. */
  readonly returnToReview: boolean;
  /** The consent version the change or stop started from (If-Match). */
  readonly version: string | undefined;
}

export type ProblemCode =
  | 'providerMissing'
  | 'categoriesMissing'
  | 'purposeMissing'
  | 'untilMissing'
  | 'dateMissing'
  | 'dateInvalid'
  | 'dateNotFuture'
  | 'statementUnticked'
  | 'nameMissing'
  | 'nameTooLong';

/** One problem: the field (its input's id, the error summary links there) and what is wrong. */
export interface Problem {
  readonly field: string;
  readonly code: ProblemCode;
}

/** The first input of each question (where the error summary links). */
export const FIELD = {
  recipient: 'recipient',
  categories: 'category',
  purpose: 'purpose',
  until: 'until',
  day: 'until-day',
  name: 'signature-name',
  agree: 'signature-agree',
} as const;

const STEPS: readonly Step[] = [...QUESTION_STEPS, 'review', 'sign'];
const MAX_NAME_LENGTH = 200;
const RECIPIENT_REFERENCE = /^(Organization|Practitioner|PractitionerRole)\/[A-Za-z0-9\-.]{1,64}$/;
const VERSION = /^[A-Za-z0-9\-.]{1,64}$/;

/** Empty answers (the start of sharing). */
export const NO_ANSWERS: Answers = { recipient: undefined, categories: [], purpose: undefined, untilKind: undefined, day: '', month: '', year: '' };

/** Parses a urlencoded body (values a string or, for repeated fields, an array); anything unknown is ignored. */
export function parsePostedForm(body: unknown): PostedForm {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const one = (name: string): string => {
    const value = fields[name];
    const first = Array.isArray(value) ? value[0] : value;
    return typeof first === 'string' ? first.trim() : '';
  };
  const many = (name: string): string[] => {
    const value = fields[name];
    return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
  };
  const recipient = one('recipient');
  const purpose = one('purpose');
  const untilKind = one('until');
  const chosen = new Set(many('category'));
  const step = one('step');
  const goto = one('goto');
  const version = one('version');
  return {
    answers: {
      recipient: RECIPIENT_REFERENCE.test(recipient) ? recipient : undefined,
      categories: SHAREABLE_CATEGORIES.filter((c) => chosen.has(c)),
      purpose: (OFFERED_PURPOSES as readonly string[]).includes(purpose) ? (purpose as OfferedPurpose) : undefined,
      untilKind: untilKind === 'open' || untilKind === 'date' ? untilKind : undefined,
      day: one('until-day').slice(0, 4),
      month: one('until-month').slice(0, 4),
      year: one('until-year').slice(0, 6),
    },
    signature: { name: one('signature-name').slice(0, MAX_NAME_LENGTH + 1), agreed: one('signature-agree') === 'yes' },
    step: isStep(step) ? step : undefined,
    goto: isStep(goto) ? goto : undefined,
    back: one('back') !== '',
    returnToReview: one('return') === 'review',
    version: VERSION.test(version) ? version : undefined,
  };
}

/** True when the question shown next should return to the review once answered (opened from it, or still is). */
export function returnsToReview(form: PostedForm): boolean {
  return form.returnToReview || (form.step === 'review' && form.goto !== undefined && form.goto !== 'sign' && form.goto !== 'review');
}

function isStep(value: string): value is Step {
  return (STEPS as readonly string[]).includes(value);
}

/**
 * The last day as `YYYY-MM-DD` when the date fields hold a real calendar date, else undefined. Day and month may have
 * one or two digits; the year has four.
 */
export function typedDate(answers: Pick<Answers, 'day' | 'month' | 'year'>): string | undefined {
  if (!/^\d{1,2}$/.test(answers.day) || !/^\d{1,2}$/.test(answers.month) || !/^\d{4}$/.test(answers.year)) {
    return undefined;
  }
  const [y, m, d] = [Number(answers.year), Number(answers.month), Number(answers.day)];
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return undefined;
  }
  return date.toISOString().slice(0, 10);
}

/** How long sharing lasts, when answered well enough to act on (a date in the future). */
export function untilOf(answers: Answers, today: string): Until | undefined {
  if (answers.untilKind === 'open') {
    return { kind: 'open' };
  }
  const date = answers.untilKind === 'date' ? typedDate(answers) : undefined;
  return date !== undefined && date > today ? { kind: 'date', date } : undefined;
}

/** The date fields for a last day (`YYYY-MM-DD`), as a person types them. */
export function dateFields(date: string): Pick<Answers, 'day' | 'month' | 'year'> {
  const [year = '', month = '', day = ''] = date.split('-');
  return { day: String(Number(day)), month: String(Number(month)), year };
}

/**
 * What is missing or wrong in the answer to `step`. `providers` are the references the client may choose from;
 * `today` is `YYYY-MM-DD` (the last day must come after it).
 */
export function problemsOf(step: QuestionStep, answers: Answers, context: { providers: ReadonlySet<string>; today: string }): Problem[] {
  switch (step) {
    case 'provider':
      return answers.recipient !== undefined && context.providers.has(answers.recipient) ? [] : [{ field: FIELD.recipient, code: 'providerMissing' }];
    case 'categories':
      return answers.categories.length > 0 ? [] : [{ field: FIELD.categories, code: 'categoriesMissing' }];
    case 'purpose':
      return answers.purpose ? [] : [{ field: FIELD.purpose, code: 'purposeMissing' }];
    case 'period':
      return periodProblems(answers, context.today);
    default:
      return step satisfies never;
  }
}

function periodProblems(answers: Answers, today: string): Problem[] {
  if (answers.untilKind === undefined) {
    return [{ field: FIELD.until, code: 'untilMissing' }];
  }
  if (answers.untilKind === 'open') {
    return [];
  }
  if (!answers.day && !answers.month && !answers.year) {
    return [{ field: FIELD.day, code: 'dateMissing' }];
  }
  const date = typedDate(answers);
  if (date === undefined) {
    return [{ field: FIELD.day, code: 'dateInvalid' }];
  }
  return date > today ? [] : [{ field: FIELD.day, code: 'dateNotFuture' }];
}

/** What is missing in the signature: the statement ticked and a name typed. */
export function signatureProblems(signature: Signature): Problem[] {
  const problems: Problem[] = [];
  if (!signature.agreed) {
    problems.push({ field: FIELD.agree, code: 'statementUnticked' });
  }
  if (!signature.name) {
    problems.push({ field: FIELD.name, code: 'nameMissing' });
  } else if (signature.name.length > MAX_NAME_LENGTH) {
    problems.push({ field: FIELD.name, code: 'nameTooLong' });
  }
  return problems;
}

/** Where a posted form leads: a step to show (with the problems that keep the client there), or the commit. */
export type Outcome = { readonly kind: 'show'; readonly step: Step; readonly problems: readonly Problem[] } | { readonly kind: 'commit' };

/**
 * The next page for a posted form, after the GOV.UK question-page pattern: the answered question is checked (a
 * problem shows it again); Back goes to the previous step unchecked; a Change button on the review opens its question;
 * a question opened from the review returns to it. The review and the signature are shown only when every question
 * is answered well (else the first that is not, with its problems); a good signature commits.
 */
export function nextOutcome(
  steps: readonly Step[],
  form: PostedForm,
  context: { providers: ReadonlySet<string>; today: string },
): Outcome {
  const questions = steps.filter((s): s is QuestionStep => (QUESTION_STEPS as readonly string[]).includes(s));
  const answered = form.step !== undefined && steps.includes(form.step) ? form.step : undefined;
  if (answered === undefined) {
    return { kind: 'show', step: steps[0] ?? 'categories', problems: [] };
  }
  const index = steps.indexOf(answered);
  if (form.back) {
    return { kind: 'show', step: steps[Math.max(0, index - 1)] ?? answered, problems: [] };
  }
  if (answered !== 'review' && answered !== 'sign') {
    const problems = problemsOf(answered, form.answers, context);
    if (problems.length > 0) {
      return { kind: 'show', step: answered, problems };
    }
  }
  let target: Step;
  if (answered === 'review' && form.goto !== undefined && steps.includes(form.goto)) {
    target = form.goto;
  } else if (answered === 'review') {
    target = 'sign';
  } else if (answered === 'sign') {
    target = 'sign';
  } else {
    target = form.returnToReview ? 'review' : (steps[index + 1] ?? 'review');
  }
  if (target === 'review' || target === 'sign') {
    for (const question of questions) {
      const problems = problemsOf(question, form.answers, context);
      if (problems.length > 0) {
        return { kind: 'show', step: question, problems };
      }
    }
  }
  if (answered === 'sign') {
    const problems = signatureProblems(form.signature);
    return problems.length > 0 ? { kind: 'show', step: 'sign', problems } : { kind: 'commit' };
  }
  return { kind: 'show', step: target, problems: [] };
}
