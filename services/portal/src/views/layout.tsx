/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The frame of every page: a skip link, "Leave quickly" first in the tab order, the language switch, the navigation and
 * sign-out for whoever is signed in to the page's area (a client's links, or the practice's), one <main>, and a calm
 * footer. The title is always just "CareCircle", so the tab and
 * the browser's history say nothing about what the page is for (coercion-safe).
 */
import type { ComponentChildren } from 'preact';
import { CsrfField } from './csrf-field';
import { areaHome, portalPath, type ViewContext } from './view-context';

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
              <a href={areaHome(view.area)}>{t.siteTitle}</a>
            </p>
            <a class="language-switch" href={languageHref} lang={switchTo} hreflang={switchTo}>
              {t.switchLanguage}
            </a>
          </div>
          {view.signedIn ? (
            <nav aria-label={t.mainNavigation} class="main-nav">
              <ul>{view.area === 'practice' ? <PracticeLinks view={view} /> : <ClientLinks view={view} />}</ul>
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
          <p>{view.area === 'practice' ? t.practiceFooter : t.footerPrivacy}</p>
        </footer>
      </body>
    </html>
  );
}

function NavLink(props: { view: ViewContext; href: string; exact?: boolean; children: string }) {
  const { view, href } = props;
  const current = props.exact ? view.currentPath === href : view.currentPath.startsWith(href);
  return (
    <li>
      <a href={href} aria-current={current ? 'page' : undefined}>
        {props.children}
      </a>
    </li>
  );
}

function ClientLinks(props: { view: ViewContext }) {
  const { view } = props;
  return (
    <>
      <NavLink view={view} href={portalPath('/')} exact>
        {view.t.navSharing}
      </NavLink>
      <NavLink view={view} href={portalPath('/share')}>
        {view.t.navShare}
      </NavLink>
      <NavLink view={view} href={portalPath('/updates')}>
        {view.t.navUpdates}
      </NavLink>
      <NavLink view={view} href={portalPath('/accounting')}>
        {view.t.navAccounting}
      </NavLink>
    </>
  );
}

function PracticeLinks(props: { view: ViewContext }) {
  const { view } = props;
  return (
    <>
      <NavLink view={view} href={portalPath('/practice/')} exact>
        {view.t.practiceNavReferrals}
      </NavLink>
      <NavLink view={view} href={portalPath('/practice/clients')}>
        {view.t.practiceNavClients}
      </NavLink>
    </>
  );
}
