/**
 * The audit trail of disclosure: an AuditEvent for every disclosure of a client's information to anyone but the
 * client's custodian (partners under consent, and the operator with the admin token), and for every read a consent did
 * not permit. One event per client per interaction, filed in that client's compartment (entity `Patient/x`), so the
 * client reads it with `AuditEvent?patient=Patient/x` and no one else's; an operation that reads many times
 * (`$summary`) runs inside {@link withOneAuditEventPerClient} and files one event per client for all of it.
 *
 * Written before the data leaves (the repository awaits the recorder, and a batched operation awaits the flush before
 * it answers): a disclosure whose audit cannot be written is not made.
 *
 * Denials inside {@link withFoldedDenials} (each FHIR request runs in one) are folded: one AuditEvent per client and
 * interaction for all of the request's refusals, written when the request's work has finished, before it answers,
 * each refused resource named once with how many times it was refused ({@link DENIED_COUNT_URL}), so a batch of a
 * thousand refused reads is one record, not a thousand a client must page through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AccessPolicy, AccessRecorder, Denial, Disclosure, FoundForRecord, Queryable, Repository, Sql, Transaction } from '@carecircle/store';
import { findPatientsVisibleTo, latestClientVersionsColumn, patientCompartmentsOf } from '@carecircle/store';
import type { Resource } from '@medplum/fhirtypes';
import { denialAuditEvent, disclosureAuditEvent, type AuditedInteraction, type PermittingGrant } from './audit-event-shape';
import type { Recipient } from './consent-decision';
import { markAgainstRedisclosure } from './redisclosure-label';

export { DENIED_COUNT_URL, type AuditedInteraction } from './audit-event-shape';

/** Where the request came from and went to, as the AuditEvents' BALP agents name them (DESIGN.md, "Audit events"). */
export interface AuditConnection {
  /** The network address the request came from. */
  clientAddress?: string | undefined;
  /** The FHIR base URL. */
  serverBase?: string | undefined;
  /** The search as the client sent it (`Type?params`, relative to the base), when the request is a GET search. */
  search?: string | undefined;
  /** The id (jti) of the request's OAuth access token. */
  tokenId?: string | undefined;
}

export interface AuditContext {
  /**
   * Where AuditEvents are written: a repository with the server's own (full) access, working in `tx` when the
   * audited read ran in that transaction.
   */
  auditRepository: (tx: Transaction | undefined) => Repository;
  /** The recipient; undefined for the operator (admin token), who is named as such. */
  recipient: Recipient | undefined;
  /** The OAuth client the recipient called through (none for the operator). */
  clientId: string | undefined;
  purpose: string;
  requestId: string;
  now: () => Date;
  /**
   * Of `patients` (`Patient/x`), those whose information the caller holds in its own right, as their custodian: showing
   * it to the caller is no disclosure. Everything else of a client's that the caller is shown is. Asked through `q`, the
   * transaction the read ran in or the database.
   */
  ownPatients(patients: readonly string[], q: Queryable | undefined): Promise<ReadonlySet<string>>;
  /**
   * The same question as a column of the statement that reads a row (store's AccessRecorder.ownClientsColumn): a read
   * that selected it tells the recorder, and {@link ownPatients} is not asked.
   */
  ownClientsColumn?: Sql | undefined;
  /**
   * The grants in force of `patients` to the recipient for the purpose, with the Consent version of each, asked through
   * `q`: which consent permitted each disclosed resource. One query per audited interaction; absent for the operator.
   */
  grantsInForce?: (patients: readonly string[], q: Queryable | undefined) => Promise<readonly PermittingGrant[]>;
  /**
   * The same question as a column of the statement that reads a row (store's AccessRecorder.grantsColumn): a read
   * that selected it tells the recorder, and {@link grantsInForce} is not asked.
   */
  grantsColumn?: Sql | undefined;
  connection?: AuditConnection | undefined;
}

interface PendingDisclosures {
  record: (interaction: AuditedInteraction, resources: readonly Resource[], tx: Transaction | undefined) => Promise<void>;
  resources: Resource[];
  /** The transaction the disclosing reads ran in, if they ran in one. */
  tx: Transaction | undefined;
}

/** An open batch: the disclosures each recorder was told of, written as one event per client when the batch ends. */
interface AuditBatch {
  interaction: AuditedInteraction;
  pending: Map<AccessRecorder, PendingDisclosures>;
}

/** The latest versions of a disclosed row's clients, selected beside it: the record's labels need them (share-labels.ts). */
const CLIENTS_COLUMN = latestClientVersionsColumn();

const batches = new AsyncLocalStorage<AuditBatch>();

/** The refusals of one client in one interaction kind: how many times each resource (`Type/id`) was refused. */
interface FoldedDenial {
  interaction: AuditedInteraction;
  patient: string;
  times: Map<string, number>;
}

/** An open fold: per recorder, its refusals by client and interaction, and how many refusals there were in all. */
interface DenialFold {
  pending: Map<AccessRecorder, { write: (denied: readonly FoldedDenial[]) => Promise<void>; denied: Map<string, FoldedDenial> }>;
  count: number;
}

const denialFolds = new AsyncLocalStorage<DenialFold>();

/**
 * Runs `fn` so that every denial recorded inside it is folded into one AuditEvent per client and interaction, written
 * when `fn` has settled (returned or thrown: a refused read answers 404 by throwing) and before this returns; then
 * `afterDenials` is told how many refusals there were, when there were any (a request with none is not told). Nested calls join the outer fold. When
 * writing the records fails, that error is what this throws.
 */
export async function withFoldedDenials<T>(fn: () => Promise<T>, afterDenials?: (count: number) => Promise<void>): Promise<T> {
  if (denialFolds.getStore()) {
    return fn();
  }
  const fold: DenialFold = { pending: new Map(), count: 0 };
  try {
    return await denialFolds.run(fold, fn);
  } finally {
    for (const { write, denied } of fold.pending.values()) {
      await write([...denied.values()]);
    }
    if (fold.count > 0 && afterDenials) {
      await afterDenials(fold.count);
    }
  }
}

/**
 * Runs `fn` so that every disclosure recorded inside it is filed as ONE AuditEvent per client (subtype
 * `interaction`), written when `fn` has finished and before its result is returned. When `fn` fails nothing was
 * disclosed and nothing is filed. Nested calls join the outer batch.
 */
export async function withOneAuditEventPerClient<T>(interaction: AuditedInteraction, fn: () => Promise<T>): Promise<T> {
  if (batches.getStore()) {
    return fn();
  }
  const batch: AuditBatch = { interaction, pending: new Map() };
  const result = await batches.run(batch, fn);
  for (const { record, resources, tx } of batch.pending.values()) {
    await record(interaction, resources, tx);
  }
  return result;
}

/** A recorder writing disclosure and denial AuditEvents for `context.recipient` (or the operator). */
export function createDisclosureRecorder(context: AuditContext): AccessRecorder {
  async function record(
    interaction: AuditedInteraction,
    resources: readonly Resource[],
    tx: Transaction | undefined,
    found: FoundForRecord = {},
  ): Promise<void> {
    const groups = await byClient(context, resources, tx, found.ownClients);
    // What the events' labels are taken from (share-labels.ts): a read or search hands out current versions, held as
    // stored (before the copies are marked against re-disclosure), with the latest versions of their clients as the
    // statement that read them found; anything else the rule reads.
    const held = interaction === 'read' || interaction === 'search' ? [...(found.clients ?? []), ...resources.map(asHeld)] : [];
    if (context.recipient) {
      // What a partner is shown under consent is marked against re-disclosure (its copy only; nothing stored changes).
      [...groups.values()].flat().forEach(markAgainstRedisclosure);
    }
    if (groups.size === 0) {
      // The caller's own clients only: nothing to file, and no empty transaction to pay for.
      return;
    }
    const grants = found.grants ?? (context.grantsInForce ? await context.grantsInForce([...groups.keys()], tx) : []);
    const recorded = context.now();
    const events = [...groups].map(([patient, resources]) =>
      disclosureAuditEvent(party(context), { interaction, patient, resources, query: context.connection?.search, grants, recorded }),
    );
    await createAll(context.auditRepository(tx), events, held);
  }
  async function writeDenied(denied: readonly FoldedDenial[]): Promise<void> {
    if (denied.length === 0) {
      return;
    }
    await createAll(
      context.auditRepository(undefined),
      denied.map((folded) => denialAuditEvent(party(context), { ...folded, recorded: context.now() })),
    );
  }
  const recorder: AccessRecorder = {
    ...(context.ownClientsColumn && { ownClientsColumn: context.ownClientsColumn }),
    ...(context.grantsColumn && { grantsColumn: context.grantsColumn }),
    clientsColumn: CLIENTS_COLUMN,
    async recordDisclosure(disclosure: Disclosure): Promise<void> {
      const batch = batches.getStore();
      if (!batch) {
        await record(disclosure.interaction, disclosure.resources, disclosure.tx, disclosure);
        return;
      }
      const pending: PendingDisclosures = batch.pending.get(recorder) ?? { record, resources: [], tx: disclosure.tx };
      pending.resources.push(...disclosure.resources);
      batch.pending.set(recorder, pending);
    },
    async recordDenial(denial: Denial): Promise<void> {
      const reference = `${denial.resourceType}/${denial.id}`;
      const fold = denialFolds.getStore();
      if (fold) {
        // Written when the fold ends, which is after any transaction the read ran in has settled.
        const pending = fold.pending.get(recorder) ?? { write: writeDenied, denied: new Map<string, FoldedDenial>() };
        for (const patient of denial.compartments) {
          const key = JSON.stringify([denial.interaction, patient]);
          const folded = pending.denied.get(key) ?? { interaction: denial.interaction, patient, times: new Map<string, number>() };
          folded.times.set(reference, (folded.times.get(reference) ?? 0) + 1);
          pending.denied.set(key, folded);
        }
        fold.pending.set(recorder, pending);
        fold.count++;
        return;
      }
      const write = (): Promise<void> =>
        writeDenied(denial.compartments.map((patient) => ({ interaction: denial.interaction, patient, times: new Map([[reference, 1]]) })));
      if (denial.afterTransaction) {
        denial.afterTransaction(write);
      } else {
        await write();
      }
    },
  };
  return recorder;
}

/**
 * Writes `events` in one transaction (one commit): all of them are written, or none and no answer. Inside the
 * transaction the reads ran in, they commit with it. A single event is one create, which is its own transaction: no
 * enclosing one to pay a savepoint and its release for.
 */
async function createAll(repository: Repository, events: readonly Resource[], held: readonly Resource[] = []): Promise<void> {
  const [only, ...more] = events;
  if (only && more.length === 0) {
    await repository.create(only, { held });
    return;
  }
  await repository.transaction(async (audit) => {
    for (const event of events) {
      await audit.create(event, { held });
    }
  });
}

/** What a record needs of a version it describes: its type, id and `meta` (the object, not the copy's later one). */
function asHeld(resource: Resource): Resource {
  return { resourceType: resource.resourceType, id: resource.id, meta: resource.meta } as Resource;
}

/**
 * {@link AuditContext.ownPatients} for a caller whose own policy (scopes and custodianship, before any consent) is
 * `policy`: the clients whose Patient resource that policy shows.
 */
export function patientsVisibleUnder(db: Queryable, policy: AccessPolicy): AuditContext['ownPatients'] {
  return async (patients, q) => {
    const ids = patients.filter((p) => p.startsWith('Patient/')).map((p) => p.slice('Patient/'.length));
    const visible = await findPatientsVisibleTo(q ?? db, ids, policy);
    return new Set(visible.map((id) => `Patient/${id}`));
  };
}

/** The resources disclosed, grouped by each client (not the caller's own) whose compartment they are in. */
async function byClient(
  context: AuditContext,
  resources: readonly Resource[],
  tx: Transaction | undefined,
  ownClients: ReadonlySet<string> | undefined,
): Promise<Map<string, Resource[]>> {
  const compartments = new Map(resources.map((r) => [r, patientCompartmentsOf(r)]));
  const patients = [...new Set([...compartments.values()].flat())];
  if (patients.length === 0) {
    return new Map();
  }
  const own = ownClients ?? (await context.ownPatients(patients, tx));
  const groups = new Map<string, Resource[]>();
  for (const [resource, clients] of compartments) {
    for (const patient of clients.filter((p) => !own.has(p))) {
      groups.set(patient, [...(groups.get(patient) ?? []), resource]);
    }
  }
  return groups;
}

/** Who asked, as the events name them. */
function party(context: AuditContext): Parameters<typeof disclosureAuditEvent>[0] {
  return {
    recipient: context.recipient,
    clientId: context.clientId,
    purpose: context.purpose,
    requestId: context.requestId,
    clientAddress: context.connection?.clientAddress,
    serverBase: context.connection?.serverBase,
    tokenId: context.connection?.tokenId,
  };
}
