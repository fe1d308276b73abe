/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The sharing pages' routes: the overview of who can see what (`/portal/`, signed in: start-page.tsx calls
 * `sharingOverview`), one sharing's details and history (`/portal/sharing/{consentId}`) and the preview of what its
 * provider sees (`/portal/sharing/{consentId}/preview`). Each handler loads through the API as the client (a consent
 * that is not the client's, or an id that is no id, answers the 404 page), builds the view data, and renders.
 */
import type { RequestHandler, Router } from 'express';
import { categoryName } from '../../i18n/categories';
import { sharingWords } from '../../i18n/sharing';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { PortalError } from '../../http/portal-error';
import { sendPage } from '../../views/render';
import { consentFacts, consentHistory } from './consent-facts';
import { ConsentPage } from './consent-page';
import { OverviewPage } from './overview-page';
import { PreviewPage } from './preview-page';
import { isFhirId, loadClientConsents, loadConsentHistory, loadSummaryFor } from './sharing-loader';
import { historyLines, overviewView, recipientNameOf, sharingCard } from './sharing-view';
import { buildSummaryPreview } from './summary-preview';
import { countWaitingUpdates } from '../updates/update-loader';

/** `/portal/` for a signed-in client: who can see what (and how many coordinated updates wait for the client). */
export function sharingOverview(deps: PageDeps): RequestHandler {
  return async function overview(req, res) {
    const api = apiOf(req, deps);
    const [{ consents, directory }, waitingUpdates] = await Promise.all([loadClientConsents(api), countWaitingUpdates(api, api.patient)]);
    const view = viewOf(req, deps);
    sendPage(res, <OverviewPage view={view} data={overviewView(consents, directory, view.lang, new Date())} waitingUpdates={waitingUpdates} />);
  };
}

function consentIdOf(params: Record<string, string | string[] | undefined>): string {
  const id = params.consentId;
  if (typeof id !== 'string' || !isFhirId(id)) {
    throw new PortalError(404, 'notFound');
  }
  return id;
}

/** One sharing's details and its history. */
export function sharingDetails(deps: PageDeps): RequestHandler {
  return async function details(req, res) {
    const api = apiOf(req, deps);
    const consentId = consentIdOf(req.params);
    const [{ consents, directory }, { versions, provenances }] = await Promise.all([
      loadClientConsents(api, consentId),
      loadConsentHistory(api, consentId),
    ]);
    const view = viewOf(req, deps);
    const now = new Date();
    const consent = consents[0];
    if (!consent) {
      throw new PortalError(404, 'notFound');
    }
    const facts = consentFacts(consent, now);
    const name = recipientNameOf(facts, directory, sharingWords[view.lang]);
    const history = historyLines(consentHistory(versions, provenances, api.patient, now), name, view.lang);
    sendPage(res, <ConsentPage view={view} data={{ card: sharingCard(facts, directory, view.lang), history }} />);
  };
}

/** What the sharing's provider sees now. */
export function sharingPreview(deps: PageDeps): RequestHandler {
  return async function preview(req, res) {
    const api = apiOf(req, deps);
    const consentId = consentIdOf(req.params);
    const { consents, directory } = await loadClientConsents(api, consentId);
    const view = viewOf(req, deps);
    const consent = consents[0];
    if (!consent) {
      throw new PortalError(404, 'notFound');
    }
    const facts = consentFacts(consent, new Date());
    const card = sharingCard(facts, directory, view.lang);
    const recipient = facts.recipients[0];
    if (facts.status !== 'active' || !recipient) {
      sendPage(res, <PreviewPage view={view} data={{ card, preview: undefined, emptyCategoryNames: [] }} />);
      return;
    }
    const summary = buildSummaryPreview(await loadSummaryFor(api, recipient), facts.categories, sharingWords[view.lang], view.lang);
    const emptyCategoryNames = summary.emptyCategories.map((c) => categoryName(c, view.lang));
    sendPage(res, <PreviewPage view={view} data={{ card, preview: summary, emptyCategoryNames }} />);
  };
}

/** Adds the sharing pages to the signed-in client's router. */
export function sharingRoutes(router: Router, deps: PageDeps): void {
  router.get('/sharing/:consentId', sharingDetails(deps));
  router.get('/sharing/:consentId/preview', sharingPreview(deps));
}
