/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The therapist's side of coordinated updates (issue 12), in the practice area, each page behind
 * `requirePractitioner`:
 *
 *   GET  /practice/clients                            the practice's clients
 *   GET  /practice/clients/{patientId}                 the client's updates, and "write an update"
 *   GET  /practice/clients/{patientId}/updates/new     which provider (those the client shares with)
 *   POST /practice/clients/{patientId}/updates/new     step `recipient`: what to send and the letter; step `draft`:
 *                                                      the draft Composition is created (the API refuses what the
 *                                                      client's consents do not cover, naming the category: shown
 *                                                      on the form), then its preview
 *   GET  /practice/updates/{compositionId}             the update as the provider will receive it, and its state
 *   POST /practice/updates/{compositionId}/submit      `$submit`: to the client for approval
 *   POST /practice/updates/{compositionId}/withdraw    `$withdraw`
 *
 * The API decides who may see and do what: another practice's client or update is its 404, and the 404 page here.
 */
import type { Composition, Resource } from '@medplum/fhirtypes';
import type { Request, Response, Router } from 'express';
import { FhirRequestFailed } from '../../fhir-api';
import { apiOf, requirePractitioner, viewOf, type PageDeps } from '../../http/page-context';
import { PortalError } from '../../http/portal-error';
import { categoryName, SHAREABLE_CATEGORIES } from '../../i18n/categories';
import { updateWords } from '../../i18n/updates';
import { MessagePage, type FieldProblem } from '../../views/components';
import { sendPage } from '../../views/render';
import { portalPath, type ViewContext } from '../../views/view-context';
import { personName } from '../sharing/recipient-directory';
import { isFhirId } from '../sharing/sharing-loader';
import { loadClientUpdates, loadUpdate } from '../updates/update-loader';
import { draftComposition } from '../updates/update-view';
import { ClientsPage, ClientUpdatesPage } from './clients-page';
import { DraftPage } from './draft-page';
import { loadChart, loadClient, loadDeclineReason, loadPracticeClients, loadSharingRecipients, type ClientPatient } from './drafting-loader';
import { ChartPage, LETTER_FIELD, RECIPIENT_FIELD, RECORDS_FIELD, RecipientPage } from './update-steps-page';

/** The longest letter an update carries. */
export const LETTER_MAX_LENGTH = 5000;

export function draftingRoutes(router: Router, deps: PageDeps): void {
  const practitionerOnly = requirePractitioner();

  router.get('/practice/clients', practitionerOnly, async function clients(req, res) {
    const api = apiOf(req, deps);
    sendPage(res, <ClientsPage view={viewOf(req, deps)} clients={await loadPracticeClients(api)} />);
  });

  router.get('/practice/clients/:patientId', practitionerOnly, async function clientUpdates(req, res) {
    const api = apiOf(req, deps);
    const client = await loadClient(api, paramOf(req, 'patientId'));
    const { updates, named } = await loadClientUpdates(api, `Patient/${client.id}`);
    sendPage(res, <ClientUpdatesPage view={viewOf(req, deps)} client={client} updates={updates} named={named} />);
  });

  router.get('/practice/clients/:patientId/updates/new', practitionerOnly, async function chooseRecipient(req, res) {
    const api = apiOf(req, deps);
    const client = await loadClient(api, paramOf(req, 'patientId'));
    const recipients = await loadSharingRecipients(api, client);
    sendPage(res, <RecipientPage view={viewOf(req, deps)} patientId={client.id} clientName={clientNameOf(client)} recipients={recipients} problems={[]} />);
  });

  router.post('/practice/clients/:patientId/updates/new', practitionerOnly, async function draftStep(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const words = updateWords[view.lang];
    const client = await loadClient(api, paramOf(req, 'patientId'));
    const form = formOf(req);
    const recipients = await loadSharingRecipients(api, client);
    const recipient = recipients.find((r) => r.reference === form.recipient);
    if (!recipient) {
      sendPage(
        res,
        <RecipientPage
          view={view}
          patientId={client.id}
          clientName={clientNameOf(client)}
          recipients={recipients}
          problems={[{ field: RECIPIENT_FIELD, message: words.recipientMissing }]}
        />,
        400,
      );
      return;
    }
    const chart = await loadChart(api, client);
    if (form.step !== 'draft') {
      sendPage(res, <ChartPage view={view} patientId={client.id} recipient={recipient} chart={chart} chosen={new Set()} letter="" problems={[]} />);
      return;
    }
    const chosen = chosenRecords(chart, form.records);
    const problems: FieldProblem[] = [];
    if (form.letter.length > LETTER_MAX_LENGTH) {
      problems.push({ field: LETTER_FIELD, message: words.letterTooLong });
    } else if (chosen.size === 0 && !form.letter.trim()) {
      problems.push({ field: RECORDS_FIELD, message: words.emptyUpdate });
    }
    const sendBack = (list: FieldProblem[], status: number) =>
      sendPage(res, <ChartPage view={view} patientId={client.id} recipient={recipient} chart={chart} chosen={new Set(form.records)} letter={form.letter} problems={list} />, status);
    if (problems.length > 0) {
      sendBack(problems, 400);
      return;
    }
    const practice = client.managingOrganization?.reference;
    if (!practice) {
      throw new PortalError(404, 'notFound');
    }
    let created: Composition;
    try {
      created = await api.create(
        draftComposition({
          patient: `Patient/${client.id}`,
          author: api.practitioner,
          custodian: practice,
          recipient: recipient.reference,
          title: updateWords.en.updateFor(recipient.name),
          letter: form.letter,
          chosen,
          categoryTitle: (category) => categoryName(category, 'en'),
          now: new Date(),
        }),
      );
    } catch (err) {
      if (err instanceof FhirRequestFailed && err.status === 422) {
        sendBack([refusalProblem(err, view)], 422);
        return;
      }
      throw err;
    }
    res.redirect(303, portalPath(`/practice/updates/${created.id ?? ''}`));
  });

  router.get('/practice/updates/:compositionId', practitionerOnly, async function draftPreview(req, res) {
    const api = apiOf(req, deps);
    const view = viewOf(req, deps);
    const loaded = await loadUpdate(api, paramOf(req, 'compositionId'), view.lang);
    const patientId = loaded.update.subject?.reference?.startsWith('Patient/') ? loaded.update.subject.reference.slice('Patient/'.length) : undefined;
    const client = patientId ? await loadClient(api, patientId) : undefined;
    const declineReason = loaded.view.state === 'declined' && patientId ? await loadDeclineReason(api, patientId, loaded.update.id) : undefined;
    sendPage(
      res,
      <DraftPage
        view={view}
        loaded={loaded}
        clientName={client ? clientNameOf(client) : updateWords[view.lang].someProvider}
        patientId={patientId}
        declineReason={declineReason}
      />,
    );
  });

  for (const operation of ['submit', 'withdraw'] as const) {
    router.post(`/practice/updates/:compositionId/${operation}`, practitionerOnly, async function updateOperation(req, res) {
      const api = apiOf(req, deps);
      const view = viewOf(req, deps);
      const loaded = await loadUpdate(api, paramOf(req, 'compositionId'), view.lang);
      if (formOf(req).version !== loaded.update.meta.versionId) {
        sendNotChanged(res, view, loaded.update.id);
        return;
      }
      try {
        await api.request('POST', `/Composition/${loaded.update.id}/$${operation}`, { resourceType: 'Parameters' });
      } catch (err) {
        if (err instanceof FhirRequestFailed && (err.status === 409 || err.status === 412 || err.status === 422)) {
          sendNotChanged(res, view, loaded.update.id);
          return;
        }
        throw err;
      }
      res.redirect(303, portalPath(`/practice/updates/${loaded.update.id}`));
    });
  }
}

function paramOf(req: Request, name: string): string | undefined {
  const value = req.params[name];
  return typeof value === 'string' && isFhirId(value) ? value : undefined;
}

function clientNameOf(client: ClientPatient): string {
  return personName(client.name) ?? client.id;
}

interface DraftForm {
  step: string | undefined;
  recipient: string | undefined;
  records: string[];
  letter: string;
  version: string | undefined;
}

function formOf(req: Request): DraftForm {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const text = (key: string) => (typeof body[key] === 'string' ? body[key] : undefined);
  const records = body.record;
  return {
    step: text('step'),
    recipient: text('recipient'),
    records: (Array.isArray(records) ? records : [records]).filter((r): r is string => typeof r === 'string'),
    letter: text('letter') ?? '',
    version: text('version'),
  };
}

/** The posted records that are in the client's chart, by category, in the chart's order (anything else is ignored). */
function chosenRecords(chart: ReadonlyMap<string, readonly Resource[]>, posted: readonly string[]): Map<string, string[]> {
  const wanted = new Set(posted);
  const chosen = new Map<string, string[]>();
  for (const [category, records] of chart) {
    const references = records.map((r) => `${r.resourceType}/${r.id ?? ''}`).filter((ref) => wanted.has(ref));
    if (references.length > 0) {
      chosen.set(category, references);
    }
  }
  return chosen;
}

/** The API's refusal of a draft, on the form: the category it names, in words, when it names one. */
function refusalProblem(err: FhirRequestFailed, view: ViewContext): FieldProblem {
  const words = updateWords[view.lang];
  const text = (err.outcome?.issue ?? []).map((i) => `${i.diagnostics ?? ''} ${i.details?.text ?? ''}`).join(' ');
  const category = [...SHAREABLE_CATEGORIES].sort((a, b) => b.length - a.length).find((c) => text.includes(c));
  return { field: RECORDS_FIELD, message: category ? words.notCoveredProblem(categoryName(category, view.lang)) : words.refusedProblem };
}

function sendNotChanged(res: Response, view: ViewContext, id: string): void {
  const words = updateWords[view.lang];
  sendPage(
    res,
    <MessagePage view={view} heading={words.notSentHeading}>
      <p>{words.notSentBody}</p>
      <p>
        <a href={portalPath(`/practice/updates/${id}`)}>{words.back}</a>
      </p>
    </MessagePage>,
    409,
  );
}
