/**
 * Reading the form body of the token and revocation endpoints (RFC 6749 section 3.2, RFC 7009): every parameter at
 * most once and text the database can hold, checked before anything is read, so nothing is taken as its first value
 * and no NUL reaches a lookup; then each endpoint's own schema. Every problem is `invalid_request`.
 */
import { hasUnstorableCharacters } from '@carecircle/fhir';
import type { z } from 'zod';
import { OAuthError } from './oauth-error';

/**
 * Every field once and a string; no value (or name) holding NUL or an unpaired surrogate. Errors name a field only
 * when it is one of `known` (the endpoint's parameters), never echoing what a caller made up.
 */
export function assertWellFormedForm(form: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const [name, value] of Object.entries(form)) {
    const shown = known.has(name) ? name : 'a parameter';
    if (typeof value !== 'string') {
      throw new OAuthError('invalid_request', Array.isArray(value) ? `${shown} may appear only once` : `${shown} must be text`);
    }
    if (hasUnstorableCharacters(name) || hasUnstorableCharacters(value)) {
      throw new OAuthError('invalid_request', `${shown} may not contain NUL or unpaired surrogate characters`);
    }
  }
}

/** The form read by `schema`; `invalid_request` naming the parameters that are missing or invalid. */
export function parseForm<T>(schema: z.ZodType<T>, form: Record<string, unknown>): T {
  const parsed = schema.safeParse(form);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => i.path.join('.')))].join(', ');
    throw new OAuthError('invalid_request', `missing or invalid parameters: ${names}`);
  }
  return parsed.data;
}
