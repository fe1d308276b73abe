/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** The practice area's start page before signing in: what it is for, and one way in. */
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';

export function PracticeWelcomePage(props: { view: ViewContext }) {
  const { t } = props.view;
  return (
    <Layout view={props.view}>
      <h1>{t.practiceWelcomeHeading}</h1>
      <p>{t.practiceWelcomeIntro}</p>
      <p>
        <a class="button" href={portalPath('/practice/sign-in')} aria-describedby="sign-in-hint">
          {t.welcomeSignIn}
        </a>
      </p>
      <p id="sign-in-hint" class="hint">
        {t.practiceWelcomeHint}
      </p>
    </Layout>
  );
}
