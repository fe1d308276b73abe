/**
 * The disclosure recorder's columns (access-policy.ts, AccessRecorder.ownClientsColumn, grantsColumn and
 * clientsColumn): selected by the statement that reads the rows, and read back off a row as what the statement found
 * (Disclosure.ownClients, .grants and .clients), so the recorder needs no statement of its own. One place for both the
 * read's and a search page's use.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { AccessRecorder, Disclosure } from './access-policy';
import { sql, type Sql } from './sql';
import type { GrantInForce } from './tables/consent-grants';

/** What a statement found for the record. */
export type FoundForRecord = Pick<Disclosure, 'ownClients' | 'grants' | 'clients'>;

/** The columns as a row carries them. */
export interface RecorderColumnValues {
  own_clients?: string[] | null;
  grants?: GrantInForce[] | null;
  clients?: Resource[] | null;
}

/** Whether `recorder` has a column to select. */
export function hasRecorderColumns(recorder: AccessRecorder | undefined): boolean {
  return recorder?.ownClientsColumn !== undefined || recorder?.grantsColumn !== undefined || recorder?.clientsColumn !== undefined;
}

/**
 * `recorder`'s columns as the tail of a select list (`, … AS own_clients, … AS grants, … AS clients`; empty without
 * them). Each is an expression over `rv`; `over` places it where `rv` is what it should read (a search page asks once
 * for all its rows).
 */
export function recorderColumns(recorder: AccessRecorder | undefined, over: (column: Sql) => Sql = (column) => column): Sql {
  const { ownClientsColumn, grantsColumn, clientsColumn } = recorder ?? {};
  return sql`${ownClientsColumn ? sql`, ${over(ownClientsColumn)} AS own_clients` : sql``}${grantsColumn ? sql`, ${over(grantsColumn)} AS grants` : sql``}${
    clientsColumn ? sql`, ${over(clientsColumn)} AS clients` : sql``
  }`;
}

/** What `row` (selected with {@link recorderColumns}) says for the record; nothing for no row. */
export function foundIn(row: RecorderColumnValues | undefined): FoundForRecord {
  return {
    ...(row?.own_clients && { ownClients: new Set(row.own_clients) }),
    ...(row?.grants && { grants: row.grants }),
    ...(row?.clients && { clients: row.clients }),
  };
}
