/**
 * The sign-in page of the authorization endpoint: plain, accessible HTML (labelled fields, an alert region for the
 * error, autocomplete hints for password managers), no script. Everything from the request is HTML-escaped; the
 * authorization parameters travel back in hidden fields so the form posts the same request, with the form's
 * `csrf_token`.
 */
import { SIGN_IN_CSRF_FIELD, type AuthorizeParameters } from '@carecircle/auth';

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Headers for every page of the authorization endpoint: no caching, no framing, no script, no referrer elsewhere. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  // same-origin, not no-referrer: a form posted from a no-referrer page says `Origin: null`, and the sign-in checks
  // that the Origin is ours (sign-in-csrf.ts). Other origins still get no Referer.
  'Referrer-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
};

const STYLE = `body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}
button{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}.error{color:#a00;border:1px solid #a00;padding:.5rem}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>`;
}

/**
 * The sign-in form for an app, optionally with an error (generic wording, announced to screen readers). `csrfToken`
 * goes in the hidden field the sign-in checks against the browser's cookie (sign-in-csrf.ts in @carecircle/auth).
 */
export function renderLoginPage(options: {
  appName: string;
  params: AuthorizeParameters;
  csrfToken: string;
  error?: string;
  username?: string;
}): string {
  const hidden = [...Object.entries(options.params), [SIGN_IN_CSRF_FIELD, options.csrfToken] as const]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value ?? '')}">`)
    .join('\n');
  const error = options.error
    ? `<p class="error" id="login-error" role="alert">${escapeHtml(options.error)}</p>`
    : '';
  const describedBy = options.error ? ' aria-describedby="login-error" aria-invalid="true"' : '';
  return layout(
    'Sign in - CareCircle',
    `<h1>Sign in to CareCircle</h1>
<p><strong>${escapeHtml(options.appName)}</strong> is asking to access your CareCircle records.</p>
${error}
<form method="post" action="/oauth2/authorize">
${hidden}
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="128" value="${escapeHtml(options.username ?? '')}"${describedBy}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"${describedBy}>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** A page for a request that cannot be completed (unknown app, unregistered redirect URI). */
export function renderErrorPage(message: string): string {
  return layout('Sign-in request not valid - CareCircle', `<h1>This sign-in request is not valid</h1>\n<p role="alert">${escapeHtml(message)}</p>`);
}
