/**
 * The pages of the authorization endpoint: the sign-in form and the page for a request that cannot go on. Plain,
 * accessible HTML (WCAG 2.2 AA: a `<main>` landmark, labelled fields with autocomplete hints, an error region with
 * role="alert" that the fields name in aria-describedby, visible focus, contrast of at least 4.5:1 for text and 3:1
 * for borders), in the person's language (sign-in-messages.ts) with `<html lang>` to match, under a title that says
 * nothing but "CareCircle" (tabs and history are seen by others). No script; the one stylesheet is inline and allowed
 * by its hash in the Content-Security-Policy, so the policy needs no 'unsafe-inline'. Everything from the request is
 * HTML-escaped; the authorization parameters travel back in hidden fields so the form posts the same request, with
 * the form's `csrf_token`.
 */
import { createHash } from 'node:crypto';
import { SIGN_IN_CSRF_FIELD, type AuthorizeParameters } from '@carecircle/auth';
import type { RequestProblemKey, SignInLocale, SignInMessages } from './sign-in-messages';

/** The form field that says which button was pressed: `sign-in` (also when absent) or `cancel`. */
export const DECISION_FIELD = 'decision';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

// GOV.UK-like: black text on white (21:1), the error red #b10e1e (7.5:1), borders #0b0c0c; focus a thick black
// outline with a yellow halo, visible on every background; buttons at least 44px high (target size).
const STYLE = `body{font-family:system-ui,sans-serif;color:#0b0c0c;background:#fff;max-width:30rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
h1{font-size:1.75rem;line-height:1.2}ul{padding-left:1.25rem}li{margin:.25rem 0}
label{display:block;margin-top:1rem;font-weight:600}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box;border:2px solid #0b0c0c;border-radius:0}
input[aria-invalid=true]{border-color:#b10e1e}
.actions{display:flex;flex-wrap:wrap;gap:1rem;margin-top:1.5rem}
button{min-height:2.75rem;padding:.5rem 1.25rem;font-size:1rem;font-weight:600;border:2px solid #0b0c0c;border-radius:0;cursor:pointer}
button.primary{background:#00703c;border-color:#00703c;color:#fff}button.secondary{background:#fff;color:#0b0c0c}
:focus-visible{outline:3px solid #0b0c0c;outline-offset:2px;box-shadow:0 0 0 6px #fd0}
.error{color:#b10e1e;border-left:5px solid #b10e1e;padding:.5rem 1rem;font-weight:600}
.hint{color:#505a5f}.developer{border-top:1px solid #b1b4b6;margin-top:2rem;padding-top:1rem}code{font-size:.95em}`;

const STYLE_HASH = `sha256-${createHash('sha256').update(STYLE).digest('base64')}`;

/** Headers for every page of the authorization endpoint: no caching, no framing, no script, no referrer elsewhere. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': `default-src 'none'; style-src '${STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'`,
  'X-Frame-Options': 'DENY',
  // same-origin, not no-referrer: a form posted from a no-referrer page says `Origin: null`, and the sign-in checks
  // that the Origin is ours (sign-in-csrf.ts). Other origins still get no Referer.
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

/** The headers of a page in `locale` (its Content-Language). */
export function pageHeaders(locale: SignInLocale): Record<string, string> {
  return { ...PAGE_HEADERS, 'Content-Language': locale };
}

function layout(locale: SignInLocale, messages: SignInMessages, body: string): string {
  return `<!doctype html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(messages.pageTitle)}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>`;
}

/** What the sign-in form shows. */
export interface LoginPageView {
  locale: SignInLocale;
  messages: SignInMessages;
  appName: string;
  /** What the app asks for, in plain sentences (scope-sentences.ts). */
  asks: readonly string[];
  params: AuthorizeParameters;
  csrfToken: string;
  error?: string;
  username?: string;
}

/**
 * The sign-in form for an app: who is asking and what for, the credentials, and two buttons in the one form, Sign in
 * and Cancel (`decision=cancel`, which skips the browser's required-field check and is held to the same CSRF checks),
 * optionally with an error (generic wording, announced to screen readers, named by both fields).
 */
export function renderLoginPage(view: LoginPageView): string {
  const { messages: m } = view;
  const hidden = [...Object.entries(view.params), [SIGN_IN_CSRF_FIELD, view.csrfToken] as const]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value ?? '')}">`)
    .join('\n');
  const error = view.error ? `<p class="error" id="login-error" role="alert">${escapeHtml(view.error)}</p>` : '';
  const describedBy = view.error ? ' aria-describedby="login-error" aria-invalid="true"' : '';
  const asks = view.asks.map((sentence) => `<li>${escapeHtml(sentence)}</li>`).join('\n');
  return layout(
    view.locale,
    m,
    `<h1>${escapeHtml(m.signInHeading)}</h1>
<p id="asking"><strong>${escapeHtml(m.asking(view.appName))}</strong></p>
<ul aria-labelledby="asking">
${asks}
</ul>
${error}
<form method="post" action="/oauth2/authorize">
${hidden}
<label for="username">${escapeHtml(m.username)}</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="128" value="${escapeHtml(view.username ?? '')}"${describedBy}>
<label for="password">${escapeHtml(m.password)}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"${describedBy}>
<div class="actions">
<button type="submit" class="primary" name="${DECISION_FIELD}" value="sign-in">${escapeHtml(m.signIn)}</button>
<button type="submit" class="secondary" name="${DECISION_FIELD}" value="cancel" formnovalidate aria-describedby="cancel-hint">${escapeHtml(m.cancel)}</button>
</div>
<p class="hint" id="cancel-hint">${escapeHtml(m.cancelHint(view.appName))}</p>
</form>`,
  );
}

const PROBLEM_TEXT: Readonly<Record<RequestProblemKey, (m: SignInMessages, detail: string) => { person: string; developer: string }>> = {
  noClient: (m) => ({ person: m.noClientPerson, developer: m.noClientDeveloper }),
  unknownClient: (m) => ({ person: m.unknownClientPerson, developer: m.unknownClientDeveloper }),
  repeatedClient: (m) => ({ person: m.repeatedClientPerson, developer: m.repeatedClientDeveloper }),
  redirectUri: (m) => ({ person: m.redirectUriPerson, developer: m.redirectUriDeveloper }),
  stateRepeated: (m) => ({ person: m.stateRepeatedPerson, developer: m.stateRepeatedDeveloper }),
  stateTooLong: (m) => ({ person: m.stateTooLongPerson, developer: m.stateTooLongDeveloper }),
  stateUnsendable: (m) => ({ person: m.stateUnsendablePerson, developer: m.stateUnsendableDeveloper }),
  crossSite: (m) => ({ person: m.crossSitePerson, developer: m.crossSiteDeveloper }),
  unreadable: (m, detail) => ({ person: m.unreadablePerson, developer: m.unreadableDeveloper(detail) }),
};

/**
 * The page for a request that cannot go on and cannot be sent back to the app (no redirect URI to trust, a `state`
 * that cannot be echoed, a form from another site, a request that cannot be read): what is wrong in plain words, what
 * the person can do, and what the app's developer should fix. `detail` is the server's own generic description, for
 * `unreadable` (never anything quoted from the request).
 */
export function renderErrorPage(locale: SignInLocale, messages: SignInMessages, problem: RequestProblemKey, detail = ''): string {
  const text = PROBLEM_TEXT[problem](messages, detail);
  return layout(
    locale,
    messages,
    `<h1>${escapeHtml(messages.errorPageHeading)}</h1>
<p class="error" role="alert">${escapeHtml(text.person)}</p>
<p>${escapeHtml(messages.errorPageWhatToDo)}</p>
<div class="developer">
<h2>${escapeHtml(messages.errorPageForDeveloper)}</h2>
<p>${escapeHtml(text.developer)}</p>
</div>`,
  );
}
