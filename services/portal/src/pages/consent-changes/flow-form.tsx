/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * What every page of the share and change steps shares: the form that carries the answers given so far in hidden
 * fields (never the URL, never the session), the Continue and Back buttons, and the problems worded for the page.
 */
import type { ComponentChildren } from 'preact';
import { type FieldProblem } from '../../views/components';
import { CsrfField } from '../../views/csrf-field';
import type { ViewContext } from '../../views/view-context';
import { shareWords, type ShareWords } from '../../i18n/share';
import type { Answers, Problem, Step } from './consent-answers';

/** Where the steps post: sharing anew, or changing one consent (at the version the client started from). */
export type FlowTarget = { readonly kind: 'share'; readonly action: string } | { readonly kind: 'change'; readonly action: string; readonly version: string };

/** What every step page is handed. */
export interface StepProps {
  readonly view: ViewContext;
  readonly flow: FlowTarget;
  readonly answers: Answers;
  readonly problems: readonly FieldProblem[];
  /** Answering returns to the review (the question was opened from it). */
  readonly returnToReview: boolean;
  /** The provider's name (every step but choosing one). */
  readonly providerName: string;
}

/** The share catalogue in the page's language. */
export function wordsOf(view: ViewContext): ShareWords {
  return shareWords[view.lang];
}

/** The problems of a step in words (the change flow says how to stop sharing instead of choosing nothing). */
export function wordProblems(problems: readonly Problem[], words: ShareWords, flow: FlowTarget): FieldProblem[] {
  return problems.map((p) => ({
    field: p.field,
    message: p.code === 'categoriesMissing' && flow.kind === 'change' ? words.categoriesMissingChange : words[p.code],
  }));
}

/** The answers other than `omit`'s, as hidden fields. */
export function StateFields(props: { flow: FlowTarget; answers: Answers; omit: Step | undefined }) {
  const { answers, omit } = props;
  return (
    <>
      {props.flow.kind === 'share' && omit !== 'provider' && answers.recipient ? <input type="hidden" name="recipient" value={answers.recipient} /> : null}
      {omit !== 'categories' ? answers.categories.map((c) => <input key={c} type="hidden" name="category" value={c} />) : null}
      {omit !== 'purpose' && answers.purpose ? <input type="hidden" name="purpose" value={answers.purpose} /> : null}
      {omit !== 'period' && answers.untilKind ? (
        <>
          <input type="hidden" name="until" value={answers.untilKind} />
          {answers.untilKind === 'date' ? (
            <>
              <input type="hidden" name="until-day" value={answers.day} />
              <input type="hidden" name="until-month" value={answers.month} />
              <input type="hidden" name="until-year" value={answers.year} />
            </>
          ) : null}
        </>
      ) : null}
    </>
  );
}

/** The form of one step: the form token, the step, the version (change), the way back to the review, the answers. */
export function StepForm(props: { step: Step; props: StepProps; children: ComponentChildren }) {
  const { flow, view, answers, returnToReview } = props.props;
  return (
    <form method="post" action={flow.action} novalidate>
      <CsrfField view={view} />
      <input type="hidden" name="step" value={props.step} />
      {flow.kind === 'change' ? <input type="hidden" name="version" value={flow.version} /> : null}
      {returnToReview ? <input type="hidden" name="return" value="review" /> : null}
      <StateFields flow={flow} answers={answers} omit={props.step} />
      {props.children}
    </form>
  );
}

/** Continue (the form's default button: first in order), and Back when there is a step before. */
export function StepButtons(props: { words: ShareWords; submit?: string; back: boolean; warning?: boolean }) {
  return (
    <div class="button-group">
      <button type="submit" class={props.warning ? 'button button-warning' : 'button'}>
        {props.submit ?? props.words.continue}
      </button>
      {props.back ? (
        <button type="submit" name="back" value="1" class="button button-secondary">
          {props.words.back}
        </button>
      ) : null}
    </div>
  );
}

/** The id of the n-th choice of a group: the first has the group's field id, where the error summary links. */
export function choiceId(field: string, index: number): string {
  return index === 0 ? field : `${field}-${index + 1}`;
}
