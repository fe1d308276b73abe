/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/sharing/{consentId}/change`: changing what a provider sees, as a new version of the same Consent. GET opens
 * the categories question pre-filled from the current version; the steps post back here with the answers and the
 * version the client started from; the review shows the change plainly; only a good signature updates the Consent
 * (PUT with If-Match of that version). A version changed meanwhile (or the API's 412) shows what it says now. Another
 * client's consent id is the 404 page, and changes nothing.
 */
import type { Consent } from '@medplum/fhirtypes';
import type { Request, Response, Router } from 'express';
import { FhirRequestFailed, type FhirApi } from '../../fhir-api';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { sendPage } from '../../views/render';
import { portalPath, type ViewContext } from '../../views/view-context';
import { CHANGE_STEPS, nextOutcome, parsePostedForm, returnsToReview } from './consent-answers';
import { describeChange } from './consent-diff';
import { answersOf, changedConsent, recipientOf, termsFromAnswers, termsOf } from './consent-resource';
import { CategoriesPage } from './categories-page';
import { ConflictPage } from './conflict-page';
import { wordProblems, wordsOf, type FlowTarget } from './flow-form';
import { RefusedPage } from './refused-page';
import { REFUSED_STATUSES, todayOf } from './share-routes';
import { SharedPage } from './shared-page';
import { loadOwnConsent, loadRecipientName, type StoredConsent } from './sharing-loaders';
import { stepPage } from './step-page';
import { StoppedPage } from './stopped-page';
import { changeStatement } from './terms-words';

/** The consent and the name of its recipient, in the words of the page. */
export async function ownConsentAndName(req: Request, api: FhirApi, view: ViewContext): Promise<{ consent: StoredConsent; name: string }> {
  const consent = await loadOwnConsent(api, typeof req.params.consentId === 'string' ? req.params.consentId : undefined);
  const name = (await loadRecipientName(api, recipientOf(consent))) ?? wordsOf(view).thisProvider;
  return { consent, name };
}

/** The page that says the consent changed meanwhile, with what it says now (read again). */
export async function sendConflict(res: Response, api: FhirApi, view: ViewContext, consentId: string, name: string, startAgain: string): Promise<void> {
  const current = await loadOwnConsent(api, consentId);
  sendPage(res, <ConflictPage view={view} providerName={name} terms={termsOf(current)} active={current.status === 'active'} startAgain={startAgain} />, 409);
}

/**
 * The consent a posted change or stop is about, still as the client reviewed it: its own, active, at the version the
 * form carries. Otherwise the page that says why (already stopped; changed meanwhile) is sent and undefined returned.
 */
export async function reviewedActiveConsent(
  req: Request,
  res: Response,
  api: FhirApi,
  view: ViewContext,
  postedVersion: string | undefined,
  step: 'change' | 'stop',
): Promise<{ consent: StoredConsent; name: string; startAgain: string } | undefined> {
  const { consent, name } = await ownConsentAndName(req, api, view);
  const startAgain = portalPath(`/sharing/${consent.id}/${step}`);
  if (consent.status !== 'active') {
    sendPage(res, <StoppedPage view={view} providerName={name} already={true} />);
    return undefined;
  }
  if (postedVersion !== consent.meta.versionId) {
    await sendConflict(res, api, view, consent.id, name, startAgain);
    return undefined;
  }
  return { consent, name, startAgain };
}

/**
 * Saves `next` over the version the client reviewed (If-Match): true when saved. A change made meanwhile answers the
 * page that says so (409), a refusal by the API the calm "could not save" page (422); anything else is thrown.
 */
export async function saveReviewedVersion(
  res: Response,
  api: FhirApi,
  view: ViewContext,
  reviewed: StoredConsent,
  next: Consent & { id: string },
  explain: { name: string; startAgain: string },
): Promise<boolean> {
  try {
    await api.update(next, reviewed.meta.versionId);
    return true;
  } catch (err) {
    if (err instanceof FhirRequestFailed && err.status === 412) {
      await sendConflict(res, api, view, reviewed.id, explain.name, explain.startAgain);
      return false;
    }
    if (err instanceof FhirRequestFailed && REFUSED_STATUSES.has(err.status)) {
      sendPage(res, <RefusedPage view={view} startAgain={explain.startAgain} />, 422);
      return false;
    }
    throw err;
  }
}

export function changeRoutes(router: Router, deps: PageDeps): void {
  router.get('/sharing/:consentId/change', async function startChange(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const { consent, name } = await ownConsentAndName(req, api, view);
    if (consent.status !== 'active') {
      sendPage(res, <StoppedPage view={view} providerName={name} already={true} />);
      return;
    }
    const flow: FlowTarget = { kind: 'change', action: portalPath(`/sharing/${consent.id}/change`), version: consent.meta.versionId };
    sendPage(res, <CategoriesPage view={view} flow={flow} answers={answersOf(termsOf(consent))} problems={[]} returnToReview={false} providerName={name} />);
  });

  router.post('/sharing/:consentId/change', async function continueChange(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = wordsOf(view);
    const form = parsePostedForm(req.body);
    const reviewed = await reviewedActiveConsent(req, res, api, view, form.version, 'change');
    if (!reviewed) {
      return;
    }
    const { consent, name, startAgain } = reviewed;
    const today = todayOf();
    const before = termsOf(consent);
    const answers = { ...form.answers, recipient: before.recipient };
    let outcome = nextOutcome(CHANGE_STEPS, { ...form, answers }, { providers: new Set([before.recipient]), today });
    const after = termsFromAnswers(answers, today);
    const change = after ? describeChange(before, after) : undefined;
    if (change?.unchanged && (outcome.kind === 'commit' || outcome.step === 'sign')) {
      // Nothing to sign: the review says so.
      outcome = { kind: 'show', step: 'review', problems: [] };
    }
    const flow: FlowTarget = { kind: 'change', action: startAgain, version: consent.meta.versionId };

    if (outcome.kind === 'commit' && after) {
      const signature = { name: form.signature.name, statement: changeStatement(after, name, view.lang), signedAt: new Date().toISOString(), lang: view.lang };
      if (!(await saveReviewedVersion(res, api, view, consent, changedConsent(consent, after, signature), { name, startAgain }))) {
        return;
      }
      res.redirect(303, portalPath(`/sharing/${consent.id}/change/done`));
      return;
    }
    const show = outcome.kind === 'show' ? outcome : { kind: 'show' as const, step: 'categories' as const, problems: [] };
    const questionOpen = show.step !== 'review' && show.step !== 'sign';
    sendPage(
      res,
      stepPage(
        show.step,
        { view, flow, answers, problems: wordProblems(show.problems, words, flow), returnToReview: questionOpen && returnsToReview(form), providerName: name },
        {
          terms: after,
          change,
          statement: after ? changeStatement(after, name, view.lang) : undefined,
          signature: form.step === 'sign' ? form.signature : undefined,
        },
      ),
      show.problems.length > 0 ? 400 : 200,
    );
  });

  router.get('/sharing/:consentId/change/done', async function changedConfirmation(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const { consent, name } = await ownConsentAndName(req, api, view);
    sendPage(res, <SharedPage view={view} consentId={consent.id} providerName={name} terms={termsOf(consent)} changed={true} />);
  });
}
