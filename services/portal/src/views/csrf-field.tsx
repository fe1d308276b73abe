/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** The hidden CSRF field every form carries (http/csrf.ts checks it). */
import type { ViewContext } from './view-context';

export function CsrfField(props: { view: ViewContext }) {
  return props.view.csrfToken ? <input type="hidden" name="csrf_token" value={props.view.csrfToken} /> : null;
}
