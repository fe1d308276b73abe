/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The rows of a "check your answers" summary: a label, the answer, and a Change button that opens the question again
 * with every other answer kept (the form carries them, so Change is a button of the review's form, not a link).
 */
import type { ComponentChildren } from 'preact';
import type { ShareWords } from '../../i18n/share';
import type { QuestionStep } from './consent-answers';

export function SummaryRow(props: {
  label: string;
  children: ComponentChildren;
  words: ShareWords;
  /** The question to open, and what it is about (said to screen readers after "Change"). */
  change?: { step: QuestionStep; about: string };
}) {
  return (
    <>
      <dt>{props.label}</dt>
      <dd>{props.children}</dd>
      <dd class="summary-action">
        {props.change ? (
          <button type="submit" name="goto" value={props.change.step} class="button-link">
            {props.words.change}
            <span class="visually-hidden"> {props.change.about}</span>
          </button>
        ) : null}
      </dd>
    </>
  );
}

/** A list of plain names, one per line. */
export function NameList(props: { names: readonly string[] }) {
  return (
    <ul class="plain-list">
      {props.names.map((n) => (
        <li key={n}>{n}</li>
      ))}
    </ul>
  );
}
