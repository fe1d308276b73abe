/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** A consent's terms as a summary list (no actions): what they can see, why, until when; its status when asked. */
import { categoryName } from '../../i18n/categories';
import type { ViewContext } from '../../views/view-context';
import type { ConsentTerms } from './consent-resource';
import { wordsOf } from './flow-form';
import { NameList } from './summary-rows';
import { purposeWords, untilWords } from './terms-words';

export function TermsSummary(props: { view: ViewContext; terms: ConsentTerms; whatLabel?: string; active?: boolean }) {
  const { view, terms } = props;
  const words = wordsOf(view);
  return (
    <dl class="summary">
      {props.active !== undefined ? (
        <>
          <dt>{words.rowStatus}</dt>
          <dd>{props.active ? words.statusActive : words.statusStopped}</dd>
        </>
      ) : null}
      <dt>{props.whatLabel ?? words.rowWhat}</dt>
      <dd>
        <NameList names={terms.categories.map((c) => categoryName(c, view.lang))} />
      </dd>
      <dt>{words.rowWhy}</dt>
      <dd>{purposeWords(terms.purpose, view.lang)}</dd>
      <dt>{words.rowUntil}</dt>
      <dd>{untilWords(terms.until, view.lang)}</dd>
    </dl>
  );
}
