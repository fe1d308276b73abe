/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The client's coordinated-update pages (issue 12), behind `requireClient`:
 *
 *   GET  /updates                         waiting for you, and past updates by provider
 *   GET  /updates/{compositionId}         the update exactly as the provider will see it
 *   GET|POST /updates/{compositionId}/approve  the signature (statement ticked, full name typed), then `$approve`
 *   GET|POST /updates/{compositionId}/decline  an optional reason (only the therapist reads it), then `$decline`
 *   GET  /updates/{compositionId}/done    what happened
 *
 * Each loads the update as the client (another client's, or a draft, is the API's 404 and the 404 page here); the
 * posted forms carry the version shown, so a decision applies only to the update as the client read it.
 */
import type { Request, Response, Router } from 'express';
import { FhirRequestFailed, type FhirApi } from '../../fhir-api';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { updateWords } from '../../i18n/updates';
import { MessagePage, type FieldProblem } from '../../views/components';
import { sendPage } from '../../views/render';
import { portalPath, type ViewContext } from '../../views/view-context';
import { AGREE_FIELD, ApprovePage, ClientUpdatePage, DecidedPage, DeclinePage, NAME_FIELD, REASON_FIELD, UpdatesListPage } from './client-updates-pages';
import { loadClientUpdates, loadUpdate, type LoadedUpdate } from './update-loader';

const NAME_MAX_LENGTH = 200;
const REASON_MAX_LENGTH = 1000;

export function clientUpdateRoutes(router: Router, deps: PageDeps): void {
  router.get('/updates', async function updatesList(req, res) {
    const api = apiOf(req, deps);
    const { updates, named } = await loadClientUpdates(api, api.patient);
    sendPage(res, <UpdatesListPage view={viewOf(req, deps)} updates={updates} named={named} />);
  });

  router.get('/updates/:compositionId', async function updatePage(req, res) {
    const view = viewOf(req, deps);
    const loaded = await ownUpdate(req, deps, view);
    sendPage(res, <ClientUpdatePage view={view} loaded={loaded} />);
  });

  router.get('/updates/:compositionId/approve', async function askToApprove(req, res) {
    const view = viewOf(req, deps);
    const loaded = await ownUpdate(req, deps, view);
    if (!awaiting(res, view, loaded)) {
      return;
    }
    sendPage(res, <ApprovePage view={view} loaded={loaded} name="" agreed={false} problems={[]} />);
  });

  router.post('/updates/:compositionId/approve', async function approve(req, res) {
    const view = viewOf(req, deps);
    const words = updateWords[view.lang];
    const loaded = await ownUpdate(req, deps, view);
    const form = formOf(req);
    if (!awaiting(res, view, loaded) || !sameVersion(res, view, loaded, form.version)) {
      return;
    }
    const name = form.name.trim();
    const agreed = form.agree === 'yes';
    const problems: FieldProblem[] = [];
    if (!agreed) {
      problems.push({ field: AGREE_FIELD, message: words.agreeMissing });
    }
    if (!name) {
      problems.push({ field: NAME_FIELD, message: words.nameMissing });
    } else if (name.length > NAME_MAX_LENGTH) {
      problems.push({ field: NAME_FIELD, message: words.nameTooLong });
    }
    if (problems.length > 0) {
      sendPage(res, <ApprovePage view={view} loaded={loaded} name={form.name} agreed={agreed} problems={problems} />, 400);
      return;
    }
    const parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'signature-name', valueString: name },
        { name: 'statement', valueString: words.statement(loaded.recipientName) },
      ],
    };
    if (!(await decide(res, apiOf(req, deps), view, loaded, 'approve', parameters))) {
      return;
    }
    res.redirect(303, portalPath(`/updates/${loaded.update.id}/done`));
  });

  router.get('/updates/:compositionId/decline', async function askToDecline(req, res) {
    const view = viewOf(req, deps);
    const loaded = await ownUpdate(req, deps, view);
    if (!awaiting(res, view, loaded)) {
      return;
    }
    sendPage(res, <DeclinePage view={view} loaded={loaded} reason="" problems={[]} />);
  });

  router.post('/updates/:compositionId/decline', async function decline(req, res) {
    const view = viewOf(req, deps);
    const words = updateWords[view.lang];
    const loaded = await ownUpdate(req, deps, view);
    const form = formOf(req);
    if (!awaiting(res, view, loaded) || !sameVersion(res, view, loaded, form.version)) {
      return;
    }
    const reason = form.reason.trim();
    if (reason.length > REASON_MAX_LENGTH) {
      sendPage(res, <DeclinePage view={view} loaded={loaded} reason={form.reason} problems={[{ field: REASON_FIELD, message: words.reasonTooLong }]} />, 400);
      return;
    }
    const parameters = { resourceType: 'Parameters', parameter: reason ? [{ name: 'reason', valueString: reason }] : [] };
    if (!(await decide(res, apiOf(req, deps), view, loaded, 'decline', parameters))) {
      return;
    }
    res.redirect(303, portalPath(`/updates/${loaded.update.id}/done`));
  });

  router.get('/updates/:compositionId/done', async function decided(req, res) {
    const view = viewOf(req, deps);
    const loaded = await ownUpdate(req, deps, view);
    if (loaded.view.state !== 'released' && loaded.view.state !== 'declined') {
      res.redirect(303, portalPath(`/updates/${loaded.update.id}`));
      return;
    }
    sendPage(res, <DecidedPage view={view} loaded={loaded} />);
  });
}

function ownUpdate(req: Request, deps: PageDeps, view: ViewContext): Promise<LoadedUpdate> {
  const id = req.params.compositionId;
  return loadUpdate(apiOf(req, deps), typeof id === 'string' ? id : undefined, view.lang);
}

function formOf(req: Request): { name: string; agree: string | undefined; reason: string; version: string | undefined } {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === 'string' ? body[key] : undefined);
  return { name: text('name') ?? '', agree: text('agree'), reason: text('reason') ?? '', version: text('version') };
}

/** An update already decided (or withdrawn) says so calmly; true when it still awaits the client. */
function awaiting(res: Response, view: ViewContext, loaded: LoadedUpdate): boolean {
  if (loaded.view.state === 'awaiting-approval') {
    return true;
  }
  sendAlreadyDecided(res, view, loaded);
  return false;
}

function sameVersion(res: Response, view: ViewContext, loaded: LoadedUpdate, version: string | undefined): boolean {
  if (version === loaded.update.meta.versionId) {
    return true;
  }
  sendAlreadyDecided(res, view, loaded);
  return false;
}

function sendAlreadyDecided(res: Response, view: ViewContext, loaded: LoadedUpdate): void {
  const words = updateWords[view.lang];
  sendPage(
    res,
    <MessagePage view={view} heading={words.clientUpdateHeading(loaded.recipientName)}>
      <p>{words.alreadyDecided}</p>
      <p>
        <a href={portalPath(`/updates/${loaded.update.id}`)}>{words.backToUpdates}</a>
      </p>
    </MessagePage>,
    409,
  );
}

/** Posts the client's decision; a refusal (changed meanwhile, no longer awaiting) is the calm "already decided" page. */
async function decide(
  res: Response,
  api: FhirApi,
  view: ViewContext,
  loaded: LoadedUpdate,
  operation: 'approve' | 'decline',
  parameters: unknown,
): Promise<boolean> {
  try {
    await api.request('POST', `/Composition/${loaded.update.id}/$${operation}`, parameters);
    return true;
  } catch (err) {
    if (err instanceof FhirRequestFailed && (err.status === 409 || err.status === 412 || err.status === 422)) {
      sendAlreadyDecided(res, view, loaded);
      return false;
    }
    throw err;
  }
}
