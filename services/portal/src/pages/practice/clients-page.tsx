/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The practice's clients (`/portal/practice/clients`), and one client's coordinated updates with their state and a
 * way to write a new one (`/portal/practice/clients/{patientId}`).
 */
import type { Resource } from '@medplum/fhirtypes';
import { formatDate } from '../../i18n/categories';
import { updateWords } from '../../i18n/updates';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { personName } from '../sharing/recipient-directory';
import type { StoredUpdate } from '../updates/update-loader';
import { recipientOf, updateStateOf } from '../updates/update-view';
import type { ClientPatient } from './drafting-loader';
import { nameOf } from './referral-board';

export function ClientsPage(props: { view: ViewContext; clients: readonly ClientPatient[] }) {
  const { view } = props;
  const words = updateWords[view.lang];
  return (
    <Layout view={view}>
      <h1>{words.clientsHeading}</h1>
      <p>{words.clientsIntro}</p>
      {props.clients.length === 0 ? (
        <p>{words.noClients}</p>
      ) : (
        <ul class="plain-list link-list">
          {props.clients.map((client) => (
            <li key={client.id}>
              <a href={portalPath(`/practice/clients/${client.id}`)}>{personName(client.name) ?? client.id}</a>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function ClientUpdatesPage(props: { view: ViewContext; client: ClientPatient; updates: readonly StoredUpdate[]; named: ReadonlyMap<string, Resource> }) {
  const { view, client } = props;
  const words = updateWords[view.lang];
  const clientName = personName(client.name) ?? client.id;
  return (
    <Layout view={view}>
      <h1>{words.clientUpdatesHeading(clientName)}</h1>
      <p>
        <a class="button" href={portalPath(`/practice/clients/${client.id}/updates/new`)}>
          {words.writeUpdate}
        </a>
      </p>
      {props.updates.length === 0 ? (
        <p>{words.clientUpdatesNone}</p>
      ) : (
        <ul class="plain-list">
          {props.updates.map((update) => {
            const provider = nameOf({ reference: recipientOf(update) }, props.named) ?? words.someProvider;
            const state = updateStateOf(update);
            return (
              <li key={update.id} class="card">
                <a href={portalPath(`/practice/updates/${update.id}`)}>{words.openUpdate(provider, update.date ? formatDate(update.date, view.lang) : '')}</a>
                {state ? <p class="hint">{words.state[state]}</p> : null}
              </li>
            );
          })}
        </ul>
      )}
    </Layout>
  );
}
