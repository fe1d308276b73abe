/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** The start page before signing in: what the portal is for, and one way in. */
import { Layout } from '../views/layout';
import { portalPath, type ViewContext } from '../views/view-context';

export function WelcomePage(props: { view: ViewContext }) {
  const { t } = props.view;
  return (
    <Layout view={props.view}>
      <h1>{t.welcomeHeading}</h1>
      <p>{t.welcomeIntro}</p>
      <p>
        <a class="button" href={portalPath('/sign-in')} aria-describedby="sign-in-hint">
          {t.welcomeSignIn}
        </a>
      </p>
      <p id="sign-in-hint" class="hint">
        {t.welcomeSignInHint}
      </p>
    </Layout>
  );
}
