/**
 * Turns a page's element tree into the response: a doctype, Preact's escaping renderer (every value from data is text,
 * never markup), and the headers every portal page carries (set by http/page-headers.ts).
 */
import type { Response } from 'express';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

/** Sends `page` as the whole HTML document with `status`. */
export function sendPage(res: Response, page: VNode, status = 200): void {
  res.status(status).type('html').send(`<!doctype html>${renderToString(page)}`);
}
