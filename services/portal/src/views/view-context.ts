/**
 * What every page template is handed besides its own data: the language and its common words, the form token, who is
 * signed in (by id only), and where things are. Built per request by the page middleware (http/page-context.ts).
 */
import type { Language } from '../i18n/catalogue';
import type { PortalArea } from '../http/session';
import type { common } from '../i18n/common';

export interface ViewContext {
  readonly lang: Language;
  /** The common words in `lang`. */
  readonly t: (typeof common)['en'];
  /** The session's CSRF token for forms; undefined before a session exists (no form posts then). */
  readonly csrfToken: string | undefined;
  /** True when someone of this page's area is signed in (a client in the client's area, a practitioner in the practice's). */
  readonly signedIn: boolean;
  /** The area this page belongs to: its navigation, and where its start page is. */
  readonly area: PortalArea;
  /** The path of this page under the portal (for the language switch to come back to), without its query. */
  readonly currentPath: string;
  /** Where "Leave quickly" goes. */
  readonly leaveUrl: string;
}

/** The portal's path prefix: every link and form action starts with it. */
export const PORTAL_PATH = '/portal';

/** A path inside the portal, e.g. `portalPath('/sharing')`. */
export function portalPath(path: string): string {
  return `${PORTAL_PATH}${path}`;
}

/** The start page of an area: the client's `/portal/`, the practice's `/portal/practice/`. */
export function areaHome(area: PortalArea): string {
  return area === 'practice' ? portalPath('/practice/') : portalPath('/');
}
