/**
 * The query string as URLSearchParams, repeated parameters kept in order (Express parses queries in its "simple"
 * mode here, so values are strings or arrays of strings).
 */
import type { Request } from 'express';

/** `req.query` as URLSearchParams. */
export function queryParams(req: Request): URLSearchParams {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(req.query)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'string') {
        params.append(name, v);
      }
    }
  }
  return params;
}
