/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The practice area (`/portal/practice/...`), for a signed-in practitioner: the referrals board and its actions.
 * Before signing in `/practice/` is the area's welcome page; a signed-in client gets the page saying the area is the
 * practice's. Every action loads the referral first as the practitioner's own (the Task's requester), so another
 * practitioner's or a made-up id is the 404 page and changes nothing; the API decides everything else (scopes,
 * custodianship, the Task's workflow, the consent a new referral needs).
 *
 *   POST /practice/referrals/{taskId}/remind    a Communication about the Task to its owner; then `/reminded`
 *   GET|POST /practice/referrals/{taskId}/cancel the reason, then the Task `cancelled` (If-Match); then `/cancelled`
 *   GET|POST /practice/referrals/{taskId}/resend another provider of the directory, then a new referral (422: what
 *                                                to ask the client for); then `/practice/referrals/{new}/sent`
 */
import type { Communication, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Request, RequestHandler, Response, Router } from 'express';
import { FhirRequestFailed, type FhirApi } from '../../fhir-api';
import { apiOf, isPractitionerSignedIn, isSignedIn, requirePractitioner, viewOf, type PageDeps } from '../../http/page-context';
import { PortalError } from '../../http/portal-error';
import { categoryName, formatDateTime, SHARE_CATEGORY_SYSTEM } from '../../i18n/categories';
import { practiceWords } from '../../i18n/practice';
import { MessagePage } from '../../views/components';
import { sendPage } from '../../views/render';
import { portalPath, type ViewContext } from '../../views/view-context';
import { BoardPage } from './board-page';
import { draftingRoutes } from './drafting-routes';
import { CancelPage, REASON_FIELD, REASON_MAX_LENGTH } from './cancel-page';
import { BOARD_SIZE, loadOwnReferral, loadPracticeDirectory, loadReferralBoard, type OwnReferral } from './practice-loader';
import { PracticeWelcomePage } from './practice-welcome';
import { actionsFor, boardStateOf, shareCategoryOf } from './referral-board';
import { PROVIDER_FIELD, ResendPage } from './resend-page';

export function practiceRoutes(router: Router, deps: PageDeps): void {
  const practitionerOnly = requirePractitioner();

  router.get('/practice/', async function practiceStart(req, res) {
    if (isPractitionerSignedIn(req)) {
      const api = apiOf(req, deps);
      const board = await loadReferralBoard(api, new Date());
      sendPage(res, <BoardPage view={viewOf(req, deps)} board={board} boardSize={BOARD_SIZE} />);
      return;
    }
    if (isSignedIn(req)) {
      throw new PortalError(403, 'practitionersOnly');
    }
    sendPage(res, <PracticeWelcomePage view={viewOf(req, deps)} />);
  });

  router.post('/practice/referrals/:taskId/remind', practitionerOnly, async function remindAgain(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const referral = await loadOwnReferral(api, taskIdOf(req));
    const state = boardStateOf(referral.task, new Date());
    if (!state || !actionsFor(state).remind) {
      sendCannot(res, view);
      return;
    }
    await api.create(reminderFor(referral, api.practitioner, view, state === 'waiting' || state === 'overdue'));
    res.redirect(303, portalPath(`/practice/referrals/${referral.task.id}/reminded`));
  });

  router.get('/practice/referrals/:taskId/reminded', practitionerOnly, async function reminded(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = practiceWords[view.lang];
    const referral = await loadOwnReferral(api, taskIdOf(req));
    sendPage(
      res,
      <MessagePage view={view} heading={words.remindedHeading(referral.partnerName ?? words.unknownPartner)}>
        <p>{words.remindedBody}</p>
        <BackToBoard view={view} />
      </MessagePage>,
    );
  });

  router.get('/practice/referrals/:taskId/cancel', practitionerOnly, async function askToCancel(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const referral = await loadOwnReferral(api, taskIdOf(req));
    if (!cancellable(referral.task)) {
      sendCannot(res, view);
      return;
    }
    sendCancelPage(res, view, referral, '', []);
  });

  router.post('/practice/referrals/:taskId/cancel', practitionerOnly, async function cancelReferral(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = practiceWords[view.lang];
    const referral = await loadOwnReferral(api, taskIdOf(req));
    const body = formOf(req);
    const reason = (body.reason ?? '').trim();
    const version = body.version ?? '';
    if (!cancellable(referral.task)) {
      sendCannot(res, view);
      return;
    }
    if (version !== referral.task.meta?.versionId) {
      sendChanged(res, view);
      return;
    }
    if (!reason || reason.length > REASON_MAX_LENGTH) {
      const message = reason ? words.cancelReasonTooLong : words.cancelReasonMissing;
      sendCancelPage(res, view, referral, reason, [{ field: REASON_FIELD, message }], 400);
      return;
    }
    const cancelled: Task & { id: string } = { ...referral.task, status: 'cancelled', statusReason: { text: reason } };
    try {
      await api.update(cancelled, version);
    } catch (err) {
      if (err instanceof FhirRequestFailed && err.status === 412) {
        sendChanged(res, view);
        return;
      }
      if (err instanceof FhirRequestFailed && (err.status === 409 || err.status === 422)) {
        sendCannot(res, view);
        return;
      }
      throw err;
    }
    res.redirect(303, portalPath(`/practice/referrals/${referral.task.id}/cancelled`));
  });

  router.get('/practice/referrals/:taskId/cancelled', practitionerOnly, async function cancelledConfirmation(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = practiceWords[view.lang];
    const referral = await loadOwnReferral(api, taskIdOf(req));
    if (referral.task.status !== 'cancelled') {
      res.redirect(303, portalPath('/practice/'));
      return;
    }
    sendPage(
      res,
      <MessagePage view={view} heading={words.cancelledHeading(referral.partnerName ?? words.unknownPartner)}>
        <p>{words.cancelledBody}</p>
        <BackToBoard view={view} />
      </MessagePage>,
    );
  });

  router.get('/practice/referrals/:taskId/resend', practitionerOnly, async function chooseProvider(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const referral = await loadOwnReferral(api, taskIdOf(req));
    await sendResendPage(res, api, view, referral, []);
  });

  router.post('/practice/referrals/:taskId/resend', practitionerOnly, async function resend(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = practiceWords[view.lang];
    const referral = await loadOwnReferral(api, taskIdOf(req));
    const providers = await otherProviders(api, referral);
    const chosen = providers.find((p) => p.reference === formOf(req).provider);
    if (!chosen) {
      await sendResendPage(res, api, view, referral, [{ field: PROVIDER_FIELD, message: words.resendProviderMissing }], 400);
      return;
    }
    let created: ServiceRequest;
    try {
      created = await api.create(resentRequest(referral, api.practitioner, chosen.reference));
    } catch (err) {
      if (err instanceof FhirRequestFailed && err.status === 422 && /consent/i.test(diagnosticsOf(err))) {
        const client = referral.clientName ?? words.someClient;
        const category = categoryName(shareCategoryOf(referral.request) ?? shareCategoryOf(referral.task) ?? 'care-plan', view.lang);
        sendPage(
          res,
          <MessagePage view={view} heading={words.consentNeededHeading(client, chosen.name)}>
            <p>{words.consentNeededBody(client, chosen.name, category)}</p>
            <p>{words.consentNeededWhat(client)}</p>
            <BackToBoard view={view} />
          </MessagePage>,
          422,
        );
        return;
      }
      if (err instanceof FhirRequestFailed && err.status >= 400 && err.status < 500 && err.status !== 404) {
        sendPage(
          res,
          <MessagePage view={view} heading={words.notSentHeading}>
            <p>{words.notSentBody}</p>
            <BackToBoard view={view} />
          </MessagePage>,
          err.status === 422 ? 422 : 400,
        );
        return;
      }
      throw err;
    }
    const tasks = await api.search<Task>(`/Task?focus=${encodeURIComponent(`ServiceRequest/${created.id ?? ''}`)}&_count=1`);
    const task = tasks.entry?.[0]?.resource;
    res.redirect(303, task?.id ? portalPath(`/practice/referrals/${task.id}/sent`) : portalPath('/practice/'));
  });

  router.get('/practice/referrals/:taskId/sent', practitionerOnly, async function sentConfirmation(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = practiceWords[view.lang];
    const referral = await loadOwnReferral(api, taskIdOf(req));
    const due = referral.task.restriction?.period?.end;
    sendPage(
      res,
      <MessagePage view={view} heading={words.resentHeading(referral.partnerName ?? words.unknownPartner)}>
        <p>{due ? words.resentBody(formatDateTime(due, view.lang)) : words.resentBodyNoDate}</p>
        <BackToBoard view={view} />
      </MessagePage>,
    );
  });

  draftingRoutes(router, deps);
  router.use('/practice', practiceNotFound);
}

/** Any other path of the practice area is its 404 page (not the client area's "this is for clients"). */
const practiceNotFound: RequestHandler = function practiceNotFound() {
  throw new PortalError(404, 'notFound');
};

function taskIdOf(req: Request): string | undefined {
  return typeof req.params.taskId === 'string' ? req.params.taskId : undefined;
}

function formOf(req: Request): Record<string, string | undefined> {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === 'string' ? body[key] : undefined);
  return { reason: text('reason'), version: text('version'), provider: text('provider') };
}

function cancellable(task: Task): boolean {
  const state = boardStateOf(task, new Date());
  return state !== undefined && actionsFor(state).cancel;
}

function diagnosticsOf(err: FhirRequestFailed): string {
  return (err.outcome?.issue ?? []).map((i) => `${i.diagnostics ?? ''} ${i.details?.text ?? ''}`).join(' ');
}

function BackToBoard(props: { view: ViewContext }) {
  return (
    <p>
      <a href={portalPath('/practice/')}>{practiceWords[props.view.lang].backToBoard}</a>
    </p>
  );
}

function sendCancelPage(
  res: Response,
  view: ViewContext,
  referral: OwnReferral,
  reason: string,
  problems: { field: string; message: string }[],
  status = 200,
): void {
  const words = practiceWords[view.lang];
  sendPage(
    res,
    <CancelPage
      view={view}
      taskId={referral.task.id}
      version={referral.task.meta?.versionId ?? ''}
      client={referral.clientName ?? words.someClient}
      partner={referral.partnerName ?? words.unknownPartner}
      reason={reason}
      problems={problems}
    />,
    status,
  );
}

/** The referral can no longer be acted on this way (completed, declined, stopped): 409, calmly. */
function sendCannot(res: Response, view: ViewContext): void {
  const words = practiceWords[view.lang];
  sendPage(
    res,
    <MessagePage view={view} heading={words.cannotActHeading}>
      <p>{words.cannotActBody}</p>
      <BackToBoard view={view} />
    </MessagePage>,
    409,
  );
}

function sendChanged(res: Response, view: ViewContext): void {
  const words = practiceWords[view.lang];
  sendPage(
    res,
    <MessagePage view={view} heading={words.changedMeanwhileHeading}>
      <p>{words.changedMeanwhileBody}</p>
      <BackToBoard view={view} />
    </MessagePage>,
    409,
  );
}

/** The practice's providers other than the referral's current partner. */
async function otherProviders(api: FhirApi, referral: OwnReferral) {
  const practice = referral.patient.managingOrganization?.reference;
  if (!practice) {
    return [];
  }
  const providers = await loadPracticeDirectory(api, practice);
  return providers.filter((p) => p.reference !== referral.task.owner?.reference);
}

async function sendResendPage(
  res: Response,
  api: FhirApi,
  view: ViewContext,
  referral: OwnReferral,
  problems: { field: string; message: string }[],
  status = 200,
): Promise<void> {
  const words = practiceWords[view.lang];
  const providers = await otherProviders(api, referral);
  sendPage(
    res,
    <ResendPage
      view={view}
      taskId={referral.task.id}
      client={referral.clientName ?? words.someClient}
      reason={referral.request.code?.text?.trim() || undefined}
      providers={providers}
      problems={problems}
    />,
    status,
  );
}

/** The share-category tag of a resource alone (the API adds the security labels that go with it). */
function categoryTag(referral: OwnReferral) {
  const code = shareCategoryOf(referral.request) ?? shareCategoryOf(referral.task);
  return code ? { meta: { tag: [{ system: SHARE_CATEGORY_SYSTEM, code }] } } : {};
}

/** A reminder from the practitioner to the referral's partner: a Communication about the Task, based on the referral. */
function reminderFor(referral: OwnReferral, practitioner: string, view: ViewContext, unacknowledged: boolean): Communication {
  const words = practiceWords[view.lang];
  return {
    resourceType: 'Communication',
    ...categoryTag(referral),
    status: 'completed',
    category: [{ text: 'Referral reminder' }],
    subject: { reference: `Patient/${referral.patient.id}` },
    about: [{ reference: `Task/${referral.task.id}` }],
    basedOn: [{ reference: `ServiceRequest/${referral.request.id}` }],
    ...(referral.task.owner?.reference ? { recipient: [{ reference: referral.task.owner.reference }] } : {}),
    sender: { reference: practitioner },
    sent: new Date().toISOString(),
    payload: [{ contentString: unacknowledged ? words.reminderText : words.reminderProgressText }],
  };
}

/** The same referral to another provider: a new ServiceRequest that replaces the old one, requested by the practitioner. */
function resentRequest(referral: OwnReferral, practitioner: string, performer: string): ServiceRequest {
  const old = referral.request;
  return {
    resourceType: 'ServiceRequest',
    ...categoryTag(referral),
    status: 'active',
    intent: 'order',
    ...(old.priority ? { priority: old.priority } : {}),
    ...(old.category ? { category: old.category } : {}),
    ...(old.code ? { code: old.code } : {}),
    ...(old.reasonCode ? { reasonCode: old.reasonCode } : {}),
    ...(old.note ? { note: old.note } : {}),
    subject: { reference: `Patient/${referral.patient.id}` },
    requester: { reference: practitioner },
    performer: [{ reference: performer }],
    replaces: [{ reference: `ServiceRequest/${old.id}` }],
    authoredOn: new Date().toISOString(),
  };
}
