/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/sharing/{consentId}/stop`: one page that says who, what they see now and what stopping does, and one
 * warning button; the POST sets the Consent's status to inactive (PUT with If-Match of the version shown), and
 * `/stop/done` confirms it. A consent already stopped says so calmly; one changed meanwhile shows what it says now.
 * Another client's consent id is the 404 page, and changes nothing.
 */
import type { Router } from 'express';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { sendPage } from '../../views/render';
import { portalPath } from '../../views/view-context';
import { parsePostedForm } from './consent-answers';
import { stoppedConsent, termsOf } from './consent-resource';
import { ownConsentAndName, reviewedActiveConsent, saveReviewedVersion } from './change-routes';
import { StopPage } from './stop-page';
import { StoppedPage } from './stopped-page';

export function stopRoutes(router: Router, deps: PageDeps): void {
  router.get('/sharing/:consentId/stop', async function askToStop(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const { consent, name } = await ownConsentAndName(req, api, view);
    if (consent.status !== 'active') {
      sendPage(res, <StoppedPage view={view} providerName={name} already={true} />);
      return;
    }
    sendPage(res, <StopPage view={view} consentId={consent.id} version={consent.meta.versionId} providerName={name} terms={termsOf(consent)} />);
  });

  router.post('/sharing/:consentId/stop', async function stopSharing(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const form = parsePostedForm(req.body);
    const reviewed = await reviewedActiveConsent(req, res, api, view, form.version, 'stop');
    if (!reviewed) {
      return;
    }
    const { consent, name, startAgain } = reviewed;
    if (!(await saveReviewedVersion(res, api, view, consent, stoppedConsent(consent), { name, startAgain }))) {
      return;
    }
    res.redirect(303, portalPath(`/sharing/${consent.id}/stop/done`));
  });

  router.get('/sharing/:consentId/stop/done', async function stoppedConfirmation(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const { consent, name } = await ownConsentAndName(req, api, view);
    if (consent.status === 'active') {
      res.redirect(303, portalPath(`/sharing/${consent.id}/stop`));
      return;
    }
    sendPage(res, <StoppedPage view={view} providerName={name} already={false} />);
  });
}
