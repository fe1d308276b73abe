/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/sharing/{consentId}/stop`: one page that says who, what they see now and what stopping does, and one
 * warning button; the POST sets the Consent's status to inactive (PUT with If-Match of the version shown), and
 * `/stop/done` confirms it. A consent already stopped says so calmly; one changed meanwhile shows what it says now.
 * Another client's consent id is the 404 page, and changes nothing.
 */
import type { Router } from 'express';
import { FhirRequestFailed } from '../../fhir-api';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { sendPage } from '../../views/render';
import { portalPath } from '../../views/view-context';
import { parsePostedForm } from './consent-answers';
import { stoppedConsent, termsOf } from './consent-resource';
import { ownConsentAndName, sendConflict } from './change-routes';
import { RefusedPage } from './refused-page';
import { REFUSED_STATUSES } from './share-routes';
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
    const { consent, name } = await ownConsentAndName(req, api, view);
    const startAgain = portalPath(`/sharing/${consent.id}/stop`);
    if (consent.status !== 'active') {
      sendPage(res, <StoppedPage view={view} providerName={name} already={true} />);
      return;
    }
    if (form.version !== consent.meta.versionId) {
      await sendConflict(res, api, view, consent.id, name, startAgain);
      return;
    }
    try {
      await api.update(stoppedConsent(consent), consent.meta.versionId);
    } catch (err) {
      if (err instanceof FhirRequestFailed && err.status === 412) {
        await sendConflict(res, api, view, consent.id, name, startAgain);
        return;
      }
      if (err instanceof FhirRequestFailed && REFUSED_STATUSES.has(err.status)) {
        sendPage(res, <RefusedPage view={view} startAgain={startAgain} />, 422);
        return;
      }
      throw err;
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
