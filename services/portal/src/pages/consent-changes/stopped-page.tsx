/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Sharing stopped: the confirmation after stopping, or, calmly, that a consent had already stopped when the client
 * came to stop or change it.
 */
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { wordsOf } from './flow-form';

export function StoppedPage(props: { view: ViewContext; providerName: string; already: boolean }) {
  const { view } = props;
  const words = wordsOf(view);
  return (
    <Layout view={view}>
      {props.already ? (
        <>
          <h1>{words.alreadyStoppedHeading(props.providerName)}</h1>
          <p>{words.alreadyStoppedBody}</p>
        </>
      ) : (
        <>
          <div class="confirmation">
            <h1>{words.stoppedHeading(props.providerName)}</h1>
          </div>
          <h2>{words.whatNextHeading}</h2>
          <p>{words.stoppedNext}</p>
          <p>{words.stoppedKept}</p>
        </>
      )}
      <ul class="plain-list link-list">
        <li>
          <a href={portalPath('/')}>{words.goToOverview}</a>
        </li>
        <li>
          <a href={portalPath('/share')}>{words.shareAgainLink}</a>
        </li>
      </ul>
    </Layout>
  );
}
