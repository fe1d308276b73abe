/**
 * The lifecycle of a coordinated update (DESIGN.md, "Coordinated updates"), one function per operation:
 *
 *   draft --$submit--> awaiting-approval --$approve--> released
 *   draft --$submit--> released            (every consent covering it for the recipient says update-approval false)
 *   draft | awaiting-approval --$withdraw--> withdrawn
 *   awaiting-approval --$decline--> declined
 *
 * The practice that holds the update submits and withdraws it; only the client (the update's subject, with the
 * client's own token) approves or declines. Each reads the update through the caller's own repository (so what the
 * caller may not see is 404 as if absent), checks the party and the state, and then writes, with the server's own
 * access inside one transaction, the new version (under If-Match of the version read, and inside the transition the
 * write rule expects), its Provenance and its AuditEvents: all of them or nothing. Submitting freezes the entries at
 * their current versions; approving records the client's electronic signature (on the Provenance, and as a personal
 * attester) and releases the update with its notice against re-disclosure; a decline's reason reaches the therapist as
 * a Communication that stays between the client and the practice.
 */
import type { Caller } from '@carecircle/auth';
import {
  DEFAULT_PURPOSE,
  permittedCategories,
  SHARE_CATEGORY_SYSTEM,
  UPDATE_APPROVAL_URL,
  UPDATE_EVENT_SYSTEM,
  UPDATE_SECTION_SYSTEM,
  UPDATE_SUBMITTED_URL,
  type Recipient,
  type UpdateState,
} from '@carecircle/consent';
import { badRequest, fail, unprocessable } from '@carecircle/fhir';
import type { Repository } from '@carecircle/store';
import type { Communication, Composition, CompositionSection, Consent } from '@medplum/fhirtypes';
import { refuseParty } from '../care-outcomes';
import { callerAgent, type ProvenanceAgentReference } from '../provenance-record';
import { categoriesOf, inState, isCoordinatedUpdate, parseEntryReference, recipientOf, stateOf } from './update-facts';
import { updateAuditEvent, updateProvenance, type ElectronicSignature, type UpdateEvent } from './update-records';
import { duringTransition } from './update-transition';

/** What the workflow works with for one request. */
export interface UpdateWorkflowContext {
  caller: Caller;
  /** The caller's own repository: what it may see. */
  reader: Repository;
  /** The server's own repository (full access, every write rule), for the transition's writes. */
  writer: Repository;
  /** Who a recipient reference stands for, as its tokens are resolved. */
  resolveRecipients(reference: string): Promise<Recipient[]>;
}

/** The longest typed name and statement an approval records. */
const MAX_NAME = 200;
const MAX_STATEMENT = 4000;

/** The notice a released update carries (in the style of 42 CFR 2.32). */
export const REDISCLOSURE_NOTICE =
  'This information has been disclosed to you from records whose confidentiality is protected by the client’s consent. ' +
  'You may not disclose it further unless the client has given written consent for that disclosure or the law permits it. ' +
  'A general authorization for the release of medical or other information is not sufficient for this purpose.';

/** `$submit`: the practice submits a draft; it awaits the client's approval, or is released where none is needed. */
export async function submitUpdate(ctx: UpdateWorkflowContext, id: string): Promise<Composition> {
  const update = await readUpdate(ctx, id);
  assertPractice(ctx, update, 'submit');
  assertState(update, ['draft'], 'submitted');
  const now = new Date();
  const to: UpdateState = (await approvalNeeded(ctx, update, now)) ? 'awaiting-approval' : 'released';
  const events: UpdateEvent[] = to === 'released' ? ['submitted', 'released'] : ['submitted'];
  return writeTransition(ctx, update, 'draft', to, events, async (tx, stored) => {
    const frozen = await freezeEntries(tx, stored);
    const submitted = { ...frozen, extension: [...(frozen.extension ?? []), { url: UPDATE_SUBMITTED_URL, valueDateTime: now.toISOString() }] };
    return to === 'released' ? withNotice(submitted) : submitted;
  });
}

/** `$withdraw`: the practice withdraws a draft or an update awaiting approval; it is never released. */
export async function withdrawUpdate(ctx: UpdateWorkflowContext, id: string): Promise<Composition> {
  const update = await readUpdate(ctx, id);
  assertPractice(ctx, update, 'withdraw');
  const from = assertState(update, ['draft', 'awaiting-approval'], 'withdrawn');
  return writeTransition(ctx, update, from, 'withdrawn', ['withdrawn'], async (_tx, stored) => stored);
}

/** `$approve`: the client approves an update awaiting approval with an electronic signature, which releases it. */
export async function approveUpdate(ctx: UpdateWorkflowContext, id: string, args: { signatureName?: string; statement?: string }): Promise<Composition> {
  const name = requiredText(args.signatureName, 'signature-name', MAX_NAME);
  const statement = requiredText(args.statement, 'statement', MAX_STATEMENT);
  const update = await readUpdate(ctx, id);
  assertClient(ctx, update, 'approve');
  assertState(update, ['awaiting-approval'], 'approved');
  const signed = new Date();
  const signature: ElectronicSignature = { name, statement, signed };
  return writeTransition(
    ctx,
    update,
    'awaiting-approval',
    'released',
    ['approved', 'released'],
    async (_tx, stored) =>
      withNotice({
        ...stored,
        attester: [...(stored.attester ?? []), { mode: 'personal', time: signed.toISOString(), party: { reference: stored.subject?.reference ?? '' } }],
      }),
    signature,
  );
}

/** `$decline`: the client declines an update awaiting approval; the reason, if any, reaches the therapist. */
export async function declineUpdate(ctx: UpdateWorkflowContext, id: string, args: { reason?: string }): Promise<Composition> {
  const reason = args.reason === undefined ? undefined : requiredText(args.reason, 'reason', MAX_STATEMENT);
  const update = await readUpdate(ctx, id);
  assertClient(ctx, update, 'decline');
  assertState(update, ['awaiting-approval'], 'declined');
  return writeTransition(ctx, update, 'awaiting-approval', 'declined', ['declined'], async (tx, stored) => {
    if (reason !== undefined) {
      await tx.create(declineReason(stored, reason, callerAgent(ctx.caller)));
    }
    return stored;
  });
}

/** The update as the caller may see it: 404 when it may not (or it does not exist), 422 when it is no update. */
async function readUpdate(ctx: UpdateWorkflowContext, id: string): Promise<Composition> {
  const update = await ctx.reader.read<Composition>('Composition', id);
  if (!isCoordinatedUpdate(update)) {
    fail(unprocessable('This Composition is not a coordinated update (profile coordinated-update)', 'Composition.meta.profile'));
  }
  return update;
}

/** 403 unless the caller acts for the practice that holds the update, with the right to change Compositions. */
function assertPractice(ctx: UpdateWorkflowContext, update: Composition, action: string): void {
  const { caller } = ctx;
  if ((caller.kind !== 'system' && caller.kind !== 'practitioner') || caller.organization !== update.custodian?.reference) {
    refuseParty(`Only the practice that holds this update may ${action} it`);
  }
  ctx.reader.policy.assertInteraction('update', 'Composition');
}

/** 403 unless the caller is the client the update is about, signed in with its own token. */
function assertClient(ctx: UpdateWorkflowContext, update: Composition, action: string): void {
  const { caller } = ctx;
  if (caller.kind !== 'patient' || caller.fhirUser !== update.subject?.reference) {
    refuseParty(`Only the client may ${action} an update about them`);
  }
}

/** The update's state, when it is one of `from`; otherwise 422 saying why it cannot be `done`. */
function assertState(update: Composition, from: readonly UpdateState[], done: string): UpdateState {
  const state = stateOf(update) ?? 'draft';
  if (!from.includes(state)) {
    fail(unprocessable(`An update ${state === 'released' ? 'already released' : `in state ${state}`} cannot be ${done}`, 'Composition.extension'));
  }
  return state;
}

/**
 * Writes the transition `from` -> `to` of `update` in one transaction with the server's access: the version the caller
 * read (412 when it changed meanwhile), changed by `change`, moved to `to`, then a Provenance of the new version and an
 * AuditEvent per event.
 */
async function writeTransition(
  ctx: UpdateWorkflowContext,
  update: Composition,
  from: UpdateState,
  to: UpdateState,
  events: readonly UpdateEvent[],
  change: (tx: Repository, stored: Composition) => Promise<Composition>,
  signature?: ElectronicSignature,
): Promise<Composition> {
  const id = update.id ?? '';
  const agent = callerAgent(ctx.caller);
  return ctx.writer.transaction(async (tx) => {
    const stored = await tx.read<Composition>('Composition', id);
    const next = inState(await change(tx, stored), to);
    const written = await duringTransition({ id, from, to }, () => tx.update(next, { ifMatch: update.meta?.versionId ?? '' }));
    const now = new Date();
    const [first] = events;
    if (first !== undefined) {
      await tx.create(updateProvenance(written.resource, first, agent, now, signature));
    }
    for (const event of events) {
      await tx.create(updateAuditEvent(written.resource, event, agent, now));
    }
    return written.resource;
  });
}

/** `update` with every unversioned entry pinned to the version current now: what the client approves is frozen. */
async function freezeEntries(tx: Repository, update: Composition): Promise<Composition> {
  const section: CompositionSection[] = [];
  for (const s of update.section ?? []) {
    const entry = [];
    for (const e of s.entry ?? []) {
      const target = parseEntryReference(e.reference);
      if (target && target.versionId === undefined) {
        const current = await tx.read(target.resourceType, target.id);
        entry.push({ ...e, reference: `${target.resourceType}/${target.id}/_history/${current.meta?.versionId ?? ''}` });
      } else {
        entry.push(e);
      }
    }
    section.push(entry.length > 0 ? { ...s, entry } : s);
  }
  return { ...update, section };
}

/** `update` with the notice against re-disclosure as its last section (once). */
function withNotice(update: Composition): Composition {
  const sections = (update.section ?? []).filter((s) => !s.code?.coding?.some((c) => c.system === UPDATE_SECTION_SYSTEM && c.code === 'redisclosure-notice'));
  const notice: CompositionSection = {
    title: 'Notice against re-disclosure',
    code: { coding: [{ system: UPDATE_SECTION_SYSTEM, code: 'redisclosure-notice', display: 'Notice against re-disclosure' }] },
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${REDISCLOSURE_NOTICE}</p></div>` },
  };
  return { ...update, section: [...sections, notice] };
}

/**
 * Whether the update needs the client's approval: yes unless every consent in force that covers one of its categories
 * for its recipient (for treatment) says update-approval false. The default, and any doubt, is yes.
 */
async function approvalNeeded(ctx: UpdateWorkflowContext, update: Composition, now: Date): Promise<boolean> {
  const recipients = await ctx.resolveRecipients(recipientOf(update) ?? '');
  const categories = categoriesOf(update);
  const { matches } = await ctx.writer.search('Consent', new URLSearchParams({ patient: update.subject?.reference ?? '', status: 'active', _count: '1000' }));
  const covering = matches.filter(
    (consent): consent is Consent =>
      consent.resourceType === 'Consent' &&
      recipients.some((recipient) => permittedCategories(consent, recipient, DEFAULT_PURPOSE, now).some((c) => categories.includes(c))),
  );
  return covering.length === 0 || covering.some((consent) => consent.extension?.find((e) => e.url === UPDATE_APPROVAL_URL)?.valueBoolean !== false);
}

/** The client's reason for declining, to the update's authors: between the client and the practice only. */
function declineReason(update: Composition, reason: string, sender: ProvenanceAgentReference): Communication {
  const category = update.meta?.tag?.filter((t) => t.system === SHARE_CATEGORY_SYSTEM);
  return {
    resourceType: 'Communication',
    ...(category && category.length > 0 ? { meta: { tag: category } } : {}),
    status: 'completed',
    category: [{ coding: [{ system: UPDATE_EVENT_SYSTEM, code: 'declined', display: 'Declined by the client' }] }],
    subject: { reference: update.subject?.reference ?? '' },
    about: [{ reference: `Composition/${update.id ?? ''}/_history/${update.meta?.versionId ?? ''}` }],
    sent: new Date().toISOString(),
    sender,
    recipient: (update.author ?? []).filter((a) => a.reference !== undefined).map((a) => ({ reference: a.reference })),
    payload: [{ contentString: reason }],
  };
}

/** A required text parameter, trimmed: 400 naming it when missing, empty or too long. */
function requiredText(value: string | undefined, name: string, max: number): string {
  const text = value?.trim() ?? '';
  if (text === '' || text.length > max) {
    fail(badRequest(`${name} is required: text of 1 to ${max} characters`, name));
  }
  return text;
}
