/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Small pieces the pages share, after the GOV.UK Design System's patterns: an error summary that links to the fields,
 * a field's own error message, and a message page (heading, text, one way on). The form token is csrf-field.tsx.
 */
import type { ComponentChildren } from 'preact';
import { Layout } from './layout';
import type { ViewContext } from './view-context';

/** One problem with a form: the field it is about (its input's id) and what to do. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * The summary at the top of a form that was sent back: announced (role=alert), focusable, each problem a link to its
 * field.
 */
export function ErrorSummary(props: { view: ViewContext; problems: readonly FieldProblem[] }) {
  if (props.problems.length === 0) {
    return null;
  }
  return (
    <div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex={-1}>
      <h2 id="error-summary-title">{props.view.t.errorSummaryTitle}</h2>
      <ul>
        {props.problems.map((p) => (
          <li key={p.field}>
            <a href={`#${p.field}`}>{p.message}</a>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A field's error, to be referenced by the field's `aria-describedby` as `${field}-error`. */
export function FieldError(props: { view: ViewContext; field: string; problems: readonly FieldProblem[] }) {
  const problem = props.problems.find((p) => p.field === props.field);
  if (!problem) {
    return null;
  }
  return (
    <p id={`${props.field}-error`} class="field-error">
      <span class="visually-hidden">{props.view.t.errorPrefix} </span>
      {problem.message}
    </p>
  );
}

/** `aria-describedby` for a field: its hint and its error, when present. */
export function describedBy(field: string, problems: readonly FieldProblem[], hint?: boolean): string | undefined {
  const ids = [hint ? `${field}-hint` : undefined, problems.some((p) => p.field === field) ? `${field}-error` : undefined].filter(
    (id): id is string => id !== undefined,
  );
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** A page that says one thing: a heading, some text, and a way on. */
export function MessagePage(props: { view: ViewContext; heading: string; children?: ComponentChildren }) {
  return (
    <Layout view={props.view}>
      <h1>{props.heading}</h1>
      {props.children}
    </Layout>
  );
}
