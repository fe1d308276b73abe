/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Stop sharing, one clear page: who, what they can see now, what happens (from their very next request nothing; what
 * they received stays with them; their system is told), and one warning button.
 */
import { CsrfField } from '../../views/csrf-field';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import type { ConsentTerms } from './consent-resource';
import { wordsOf } from './flow-form';
import { TermsSummary } from './terms-summary';

export function StopPage(props: { view: ViewContext; consentId: string; version: string; providerName: string; terms: ConsentTerms }) {
  const { view } = props;
  const words = wordsOf(view);
  return (
    <Layout view={view}>
      <h1>{words.stopHeading(props.providerName)}</h1>
      <TermsSummary view={view} terms={props.terms} whatLabel={words.stopNowSee} />
      <h2>{words.stopWhatHappensHeading}</h2>
      <p>{words.stopWhatHappens}</p>
      <form method="post" action={portalPath(`/sharing/${props.consentId}/stop`)} novalidate>
        <CsrfField view={view} />
        <input type="hidden" name="version" value={props.version} />
        <div class="button-group">
          <button type="submit" class="button button-warning">
            {words.stopButton}
          </button>
          <a href={portalPath(`/sharing/${props.consentId}`)}>{words.keepSharing}</a>
        </div>
      </form>
    </Layout>
  );
}
