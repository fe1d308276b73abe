/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** Sharing confirmed: what happened, what the provider can see from its very next request, and what next. */
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import type { ConsentTerms } from './consent-resource';
import { wordsOf } from './flow-form';
import { TermsSummary } from './terms-summary';

export function SharedPage(props: { view: ViewContext; consentId: string; providerName: string; terms: ConsentTerms; changed: boolean }) {
  const { view } = props;
  const words = wordsOf(view);
  return (
    <Layout view={view}>
      <div class="confirmation">
        <h1>{props.changed ? words.changedHeading(props.providerName) : words.sharedHeading(props.providerName)}</h1>
      </div>
      <TermsSummary view={view} terms={props.terms} />
      <h2>{words.whatNextHeading}</h2>
      <p>{props.changed ? words.changedNext : words.sharedNext}</p>
      <p>{words.signatureKept}</p>
      <p>{words.changeAnyTime}</p>
      <ul class="plain-list link-list">
        <li>
          <a href={portalPath(`/sharing/${props.consentId}/preview`)}>{words.previewLink}</a>
        </li>
        <li>
          <a href={portalPath('/')}>{words.goToOverview}</a>
        </li>
      </ul>
    </Layout>
  );
}
