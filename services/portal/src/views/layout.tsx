/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The frame of every page: a skip link, "Leave quickly" first in the tab order, the language switch, the navigation and
 * sign-out for a signed-in client, one <main>, and a calm footer. The title is always just "CareCircle", so the tab and
 * the browser's history say nothing about what the page is for (coercion-safe).
 */
import type { ComponentChildren } from 'preact';
import { CsrfField } from './csrf-field';
import { portalPath, type ViewContext } from './view-context';

export function Layout(props: { view: ViewContext; children: ComponentChildren }) {
  const { view } = props;
  const { t } = view;
  const switchTo = t.switchLanguageLang;
  const languageHref = `${portalPath('/language')}?lang=${switchTo}&return=${encodeURIComponent(view.currentPath)}`;
  return (
    <html lang={view.lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{t.siteTitle}</title>
        <link rel="stylesheet" href={portalPath('/assets/portal.css')} />
        <script src={portalPath('/assets/portal.js')} defer />
      </head>
      <body>
        <a class="skip-link" href="#main">
          {t.skipToContent}
        </a>
        <header class="site-header">
          <div class="leave">
            <a class="leave-quickly" href={view.leaveUrl} rel="noreferrer" data-leave-quickly="">
              {t.leaveQuickly}
            </a>
            <span class="leave-hint">{t.leaveQuicklyHint}</span>
          </div>
          <div class="header-bar">
            <p class="brand">
              <a href={portalPath('/')}>{t.siteTitle}</a>
            </p>
            <a class="language-switch" href={languageHref} lang={switchTo} hreflang={switchTo}>
              {t.switchLanguage}
            </a>
          </div>
          {view.signedIn ? (
            <nav aria-label={t.mainNavigation} class="main-nav">
              <ul>
                <li>
                  <a href={portalPath('/')} aria-current={view.currentPath === portalPath('/') ? 'page' : undefined}>
                    {t.navSharing}
                  </a>
                </li>
                <li>
                  <a href={portalPath('/share')} aria-current={view.currentPath.startsWith(portalPath('/share')) ? 'page' : undefined}>
                    {t.navShare}
                  </a>
                </li>
                <li>
                  <a href={portalPath('/accounting')} aria-current={view.currentPath.startsWith(portalPath('/accounting')) ? 'page' : undefined}>
                    {t.navAccounting}
                  </a>
                </li>
              </ul>
              <form method="post" action={portalPath('/sign-out')} class="inline-form">
                <CsrfField view={view} />
                <button type="submit" class="button-link">
                  {t.signOut}
                </button>
              </form>
              <form method="post" action={portalPath('/sign-out-everywhere')} class="inline-form">
                <CsrfField view={view} />
                <button type="submit" class="button-link">
                  {t.signOutEverywhere}
                </button>
              </form>
            </nav>
          ) : null}
        </header>
        <main id="main" tabindex={-1}>
          {props.children}
        </main>
        <footer class="site-footer">
          <p>{t.footerPrivacy}</p>
        </footer>
      </body>
    </html>
  );
}
