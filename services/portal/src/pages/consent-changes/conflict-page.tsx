/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The consent changed while the client was changing or stopping it (the API answered 412 to If-Match, or the version
 * read differs): nothing was saved; the page shows what the consent says now and a way to start again.
 */
import { Layout } from '../../views/layout';
import type { ViewContext } from '../../views/view-context';
import type { ConsentTerms } from './consent-resource';
import { wordsOf } from './flow-form';
import { TermsSummary } from './terms-summary';

export function ConflictPage(props: { view: ViewContext; providerName: string; terms: ConsentTerms; active: boolean; startAgain: string }) {
  const { view } = props;
  const words = wordsOf(view);
  return (
    <Layout view={view}>
      <h1>{words.conflictHeading}</h1>
      <p>{words.conflictBody}</p>
      <h2>{props.providerName}</h2>
      <TermsSummary view={view} terms={props.terms} active={props.active} />
      <p>
        <a class="button" href={props.startAgain}>
          {words.startAgain}
        </a>
      </p>
    </Layout>
  );
}
