/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** The API refused the consent (400/422): nothing was shared or changed; start again, or ask the practice. */
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { wordsOf } from './flow-form';

export function RefusedPage(props: { view: ViewContext; startAgain: string }) {
  const { view } = props;
  const words = wordsOf(view);
  return (
    <Layout view={view}>
      <h1>{words.refusedHeading}</h1>
      <p>{words.refusedBody}</p>
      <p>
        <a class="button" href={props.startAgain}>
          {words.startAgain}
        </a>
      </p>
      <p>
        <a href={portalPath('/')}>{words.goToOverview}</a>
      </p>
    </Layout>
  );
}
