/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The client's side of coordinated updates: "waiting for you" and past updates by provider (`/portal/updates`), one
 * update exactly as the provider will see it with the way to approve or decline it (`/portal/updates/{id}`), the
 * signature (typed name and statement) and the decline (an optional reason only the therapist reads), and the
 * confirmation of either.
 */
import type { Resource } from '@medplum/fhirtypes';
import { formatDate } from '../../i18n/categories';
import { updateWords } from '../../i18n/updates';
import { describedBy, ErrorSummary, FieldError, type FieldProblem } from '../../views/components';
import { CsrfField } from '../../views/csrf-field';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { nameOf } from '../practice/referral-board';
import { UpdateDocument } from './update-document';
import type { LoadedUpdate, StoredUpdate } from './update-loader';
import { recipientOf, updateStateOf } from './update-view';

export const AGREE_FIELD = 'signature-agree';
export const NAME_FIELD = 'signature-name';
export const REASON_FIELD = 'decline-reason';

export function UpdatesListPage(props: { view: ViewContext; updates: readonly StoredUpdate[]; named: ReadonlyMap<string, Resource> }) {
  const { view } = props;
  const words = updateWords[view.lang];
  const providerOf = (u: StoredUpdate) => nameOf({ reference: recipientOf(u) }, props.named) ?? words.someProvider;
  const waiting = props.updates.filter((u) => updateStateOf(u) === 'awaiting-approval');
  const past = props.updates.filter((u) => {
    const state = updateStateOf(u);
    return state === 'released' || state === 'declined' || state === 'withdrawn';
  });
  const byProvider = new Map<string, StoredUpdate[]>();
  for (const update of past) {
    const name = providerOf(update);
    byProvider.set(name, [...(byProvider.get(name) ?? []), update]);
  }
  return (
    <Layout view={view}>
      <h1>{words.waitingHeading}</h1>
      <p>{words.waitingIntro}</p>
      {waiting.length === 0 ? (
        <p>{words.waitingNone}</p>
      ) : (
        <ul class="plain-list">
          {waiting.map((update) => (
            <li key={update.id} class="card card-ending">
              <a href={portalPath(`/updates/${update.id}`)}>{words.readUpdate(providerOf(update))}</a>
              {update.date ? <p class="hint">{formatDate(update.date, view.lang)}</p> : null}
            </li>
          ))}
        </ul>
      )}
      <h2>{words.historyHeading}</h2>
      {byProvider.size === 0 ? <p>{words.historyNone}</p> : null}
      {[...byProvider.entries()].map(([provider, updates]) => (
        <section key={provider} aria-labelledby={`history-${updates[0]?.id ?? provider}`}>
          <h3 id={`history-${updates[0]?.id ?? provider}`}>{provider}</h3>
          <ul class="plain-list link-list">
            {updates.map((update) => {
              const state = updateStateOf(update);
              return (
                <li key={update.id}>
                  <a href={portalPath(`/updates/${update.id}`)}>{words.openUpdate(provider, update.date ? formatDate(update.date, view.lang) : '')}</a>
                  {state ? <span class="hint"> {words.clientState[state]}</span> : null}
                </li>
              );
            })}
          </ul>
        </section>
      ))}
    </Layout>
  );
}

export function ClientUpdatePage(props: { view: ViewContext; loaded: LoadedUpdate }) {
  const { view, loaded } = props;
  const words = updateWords[view.lang];
  const state = loaded.view.state;
  return (
    <Layout view={view}>
      <h1>{words.clientUpdateHeading(loaded.recipientName)}</h1>
      {state ? (
        <p>
          <strong>{words.stateLabel}:</strong> {words.clientState[state]}
        </p>
      ) : null}
      {state === 'awaiting-approval' ? <p>{words.clientUpdateIntro}</p> : null}
      <UpdateDocument view={view} update={loaded.view} recipientName={loaded.recipientName} authorName={loaded.authorName} />
      {state === 'awaiting-approval' ? (
        <div class="button-group">
          <a class="button" href={portalPath(`/updates/${loaded.update.id}/approve`)}>
            {words.approveLink}
          </a>
          <a class="button button-secondary" href={portalPath(`/updates/${loaded.update.id}/decline`)}>
            {words.declineLink}
          </a>
        </div>
      ) : null}
      <p>
        <a href={portalPath('/updates')}>{words.backToUpdates}</a>
      </p>
    </Layout>
  );
}

export function ApprovePage(props: { view: ViewContext; loaded: LoadedUpdate; name: string; agreed: boolean; problems: readonly FieldProblem[] }) {
  const { view, loaded, problems } = props;
  const words = updateWords[view.lang];
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <h1>{words.signHeading(loaded.recipientName)}</h1>
      <form method="post" action={portalPath(`/updates/${loaded.update.id}/approve`)} novalidate>
        <CsrfField view={view} />
        <input type="hidden" name="version" value={loaded.update.meta.versionId} />
        <fieldset aria-describedby={describedBy(AGREE_FIELD, problems)}>
          <legend>{words.agreeLegend}</legend>
          <FieldError view={view} field={AGREE_FIELD} problems={problems} />
          <div class="choice statement">
            <input type="checkbox" id={AGREE_FIELD} name="agree" value="yes" checked={props.agreed} />
            <label for={AGREE_FIELD}>{words.statement(loaded.recipientName)}</label>
          </div>
        </fieldset>
        <label for={NAME_FIELD}>{words.nameLabel}</label>
        <p id={`${NAME_FIELD}-hint`} class="hint">
          {words.nameHint}
        </p>
        <FieldError view={view} field={NAME_FIELD} problems={problems} />
        <input
          type="text"
          id={NAME_FIELD}
          name="name"
          autocomplete="name"
          spellcheck={false}
          value={props.name}
          aria-describedby={describedBy(NAME_FIELD, problems, true)}
          aria-invalid={problems.some((p) => p.field === NAME_FIELD) ? 'true' : undefined}
        />
        <div class="button-group">
          <button type="submit" class="button">
            {words.approveButton}
          </button>
          <a href={portalPath(`/updates/${loaded.update.id}`)}>{words.keepDeciding}</a>
        </div>
      </form>
    </Layout>
  );
}

export function DeclinePage(props: { view: ViewContext; loaded: LoadedUpdate; reason: string; problems: readonly FieldProblem[] }) {
  const { view, loaded, problems } = props;
  const words = updateWords[view.lang];
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <h1>{words.declineHeading(loaded.recipientName)}</h1>
      <p>{words.declineIntro}</p>
      <form method="post" action={portalPath(`/updates/${loaded.update.id}/decline`)} novalidate>
        <CsrfField view={view} />
        <input type="hidden" name="version" value={loaded.update.meta.versionId} />
        <label for={REASON_FIELD}>{words.reasonLabel}</label>
        <p id={`${REASON_FIELD}-hint`} class="hint">
          {words.reasonHint}
        </p>
        <FieldError view={view} field={REASON_FIELD} problems={problems} />
        <textarea id={REASON_FIELD} name="reason" rows={4} aria-describedby={describedBy(REASON_FIELD, problems, true)}>
          {props.reason}
        </textarea>
        <div class="button-group">
          <button type="submit" class="button button-warning">
            {words.declineButton}
          </button>
          <a href={portalPath(`/updates/${loaded.update.id}`)}>{words.keepDeciding}</a>
        </div>
      </form>
    </Layout>
  );
}

export function DecidedPage(props: { view: ViewContext; loaded: LoadedUpdate }) {
  const { view, loaded } = props;
  const words = updateWords[view.lang];
  const released = loaded.view.state === 'released';
  return (
    <Layout view={view}>
      <div class="confirmation">
        <h1>{released ? words.approvedHeading(loaded.recipientName) : words.declinedHeading}</h1>
      </div>
      <p>{released ? words.approvedBody : words.declinedClientBody}</p>
      <p>
        <a href={portalPath('/updates')}>{words.backToUpdates}</a>
      </p>
    </Layout>
  );
}
