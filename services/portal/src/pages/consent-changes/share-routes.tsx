/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/share`: sharing with a provider, after the GOV.UK question pages. GET starts with the choice of provider;
 * every step's form posts back to `/portal/share` with all answers so far (hidden fields), and the answer is checked
 * before the next page (a problem shows the step again, 400). Only a good signature creates the Consent (POST
 * /Consent as the client), then `/portal/share/shared/{id}` confirms it.
 */
import type { Router } from 'express';
import { FhirRequestFailed } from '../../fhir-api';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { sendPage } from '../../views/render';
import { portalPath } from '../../views/view-context';
import { nextOutcome, NO_ANSWERS, parsePostedForm, returnsToReview, SHARE_STEPS } from './consent-answers';
import { newSharingConsent, termsFromAnswers, termsOf } from './consent-resource';
import { wordProblems, wordsOf, type FlowTarget } from './flow-form';
import { ProviderPage } from './provider-page';
import { RefusedPage } from './refused-page';
import { SharedPage } from './shared-page';
import { loadActiveRecipients, loadDirectory, loadOwnConsent, loadRecipientName, type Provider } from './sharing-loaders';
import { stepPage } from './step-page';
import { shareStatement } from './terms-words';

/** Answers the API refuses as written (nothing was shared): shown as the calm "could not save" page. */
export const REFUSED_STATUSES: ReadonlySet<number> = new Set([400, 409, 422]);

/** Today's date (UTC), `YYYY-MM-DD`: a last day must come after it. */
export function todayOf(now = new Date()): string {
  return now.toISOString().slice(0, 10);
}

export function shareRoutes(router: Router, deps: PageDeps): void {
  const flow: FlowTarget = { kind: 'share', action: portalPath('/share') };

  router.get('/share', async function startSharing(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const [directory, active] = await Promise.all([loadDirectory(api), loadActiveRecipients(api)]);
    sendPage(
      res,
      <ProviderPage
        view={view}
        flow={flow}
        answers={NO_ANSWERS}
        problems={[]}
        returnToReview={false}
        providerName=""
        providers={withSharing(directory.providers, active)}
      />,
    );
  });

  router.post('/share', async function continueSharing(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = wordsOf(view);
    const form = parsePostedForm(req.body);
    const today = todayOf();
    const directory = await loadDirectory(api);
    const provider = directory.providers.find((p) => p.reference === form.answers.recipient);
    const outcome = nextOutcome(SHARE_STEPS, form, { providers: new Set(directory.providers.map((p) => p.reference)), today });
    const terms = termsFromAnswers(form.answers, today);
    const providerName = provider?.name ?? words.thisProvider;

    if (outcome.kind === 'commit' && terms && provider && directory.practice) {
      const statement = shareStatement(terms, provider.name, view.lang);
      let id: string | undefined;
      try {
        const signature = { name: form.signature.name, statement, signedAt: new Date().toISOString(), lang: view.lang };
        id = (await api.create(newSharingConsent(api.patient, directory.practice, terms, signature))).id;
      } catch (err) {
        if (err instanceof FhirRequestFailed && REFUSED_STATUSES.has(err.status)) {
          sendPage(res, <RefusedPage view={view} startAgain={portalPath('/share')} />, 422);
          return;
        }
        throw err;
      }
      res.redirect(303, portalPath(`/share/shared/${id ?? ''}`));
      return;
    }
    const show = outcome.kind === 'show' ? outcome : { kind: 'show' as const, step: 'provider' as const, problems: [] };
    const providers = show.step === 'provider' ? withSharing(directory.providers, await loadActiveRecipients(api)) : [];
    const questionOpen = show.step !== 'review' && show.step !== 'sign';
    sendPage(
      res,
      stepPage(
        show.step,
        { view, flow, answers: form.answers, problems: wordProblems(show.problems, words, flow), returnToReview: questionOpen && returnsToReview(form), providerName },
        {
          providers,
          terms,
          statement: terms ? shareStatement(terms, providerName, view.lang) : undefined,
          signature: form.step === 'sign' ? form.signature : undefined,
        },
      ),
      show.problems.length > 0 ? 400 : 200,
    );
  });

  router.get('/share/shared/:consentId', async function sharedConfirmation(req, res) {
    const api = apiOf(req, deps);
    const consent = await loadOwnConsent(api, req.params.consentId);
    const view = viewOf(req, deps);
    const terms = termsOf(consent);
    const name = (await loadRecipientName(api, terms.recipient)) ?? wordsOf(view).thisProvider;
    sendPage(res, <SharedPage view={view} consentId={consent.id} providerName={name} terms={terms} changed={false} />);
  });
}

function withSharing(providers: readonly Provider[], active: ReadonlySet<string>) {
  return providers.map((p) => ({ ...p, alreadySharing: active.has(p.reference) }));
}
