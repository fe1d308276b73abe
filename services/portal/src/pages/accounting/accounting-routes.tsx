/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The routes of "Who saw what", for a signed-in client: `GET /accounting` (the list, filtered by the GET form's
 * provider and period, paged by the API's sealed token) and `GET /accounting.csv` (every entry for the same filters,
 * as a download with a neutral file name). Filters with problems answer the page with its error summary and 400; a page
 * token the API no longer accepts (older than an hour, or another search's) starts the list again from the newest.
 */
import type { Request, Response, Router } from 'express';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { sendPage } from '../../views/render';
import { accountingCsv } from './accounting-csv';
import { parseFilters, type AccountingFilters } from './accounting-filters';
import { loadAccountingPage, loadAllEntries, loadProviderOptions, PageTokenRefused } from './accounting-loader';
import { AccountingPage } from './accounting-page';

/** Adds the accounting's routes to the signed-in client's router. */
export function accountingRoutes(router: Router, deps: PageDeps): void {
  router.get('/accounting', async function accountingList(req: Request, res: Response) {
    const view = viewOf(req, deps);
    const filters = parseFilters(req.query, view.lang);
    if (filters.problems.length > 0) {
      await sendProblems(req, res, deps, filters);
      return;
    }
    const api = apiOf(req, deps);
    let shown: AccountingFilters = filters;
    let restarted = false;
    let list;
    try {
      list = await loadAccountingPage(api, filters);
    } catch (err) {
      if (!(err instanceof PageTokenRefused)) {
        throw err;
      }
      shown = { ...filters, page: undefined };
      restarted = true;
      list = await loadAccountingPage(api, shown);
    }
    sendPage(res, <AccountingPage view={view} data={{ filters: shown, providers: list.providers, list, restarted }} />);
  });

  router.get('/accounting.csv', async function accountingDownload(req: Request, res: Response) {
    const view = viewOf(req, deps);
    const filters = parseFilters(req.query, view.lang);
    if (filters.problems.length > 0) {
      await sendProblems(req, res, deps, filters);
      return;
    }
    const entries = await loadAllEntries(apiOf(req, deps), { ...filters, page: undefined });
    res
      .status(200)
      .set('Content-Type', 'text/csv; charset=utf-8')
      .set('Content-Disposition', 'attachment; filename="carecircle-accounting.csv"')
      .set('Cache-Control', 'no-store')
      .send(accountingCsv(entries, view.lang));
  });
}

/** The form sent back with its problems (400), the providers still offered so the reader's choice stays. */
async function sendProblems(req: Request, res: Response, deps: PageDeps, filters: AccountingFilters): Promise<void> {
  const providers = await loadProviderOptions(apiOf(req, deps), filters.provider);
  sendPage(res, <AccountingPage view={viewOf(req, deps)} data={{ filters, providers, list: undefined, restarted: false }} />, 400);
}
