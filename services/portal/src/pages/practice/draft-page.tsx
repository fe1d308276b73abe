/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * One coordinated update on the therapist's side (`/portal/practice/updates/{id}`): its state in words and the update
 * exactly as the provider will receive it; a draft can be sent to the client for approval or withdrawn, an update
 * awaiting approval withdrawn; a declined one shows the reason the client gave the therapist.
 */
import { updateWords } from '../../i18n/updates';
import { CsrfField } from '../../views/csrf-field';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { UpdateDocument } from '../updates/update-document';
import type { LoadedUpdate } from '../updates/update-loader';

export function DraftPage(props: { view: ViewContext; loaded: LoadedUpdate; clientName: string; patientId: string | undefined; declineReason: string | undefined }) {
  const { view, loaded } = props;
  const words = updateWords[view.lang];
  const state = loaded.view.state;
  const action = (name: 'submit' | 'withdraw', label: string, warning: boolean) => (
    <form method="post" action={portalPath(`/practice/updates/${loaded.update.id}/${name}`)} class="inline-form">
      <CsrfField view={view} />
      <input type="hidden" name="version" value={loaded.update.meta.versionId} />
      <button type="submit" class={`button${warning ? ' button-secondary' : ''}`}>
        {label}
      </button>
    </form>
  );
  return (
    <Layout view={view}>
      <h1>{state === 'draft' ? words.previewHeading : words.updateFor(loaded.recipientName)}</h1>
      {state ? (
        <p>
          <strong>{words.stateLabel}:</strong> {words.state[state]}
        </p>
      ) : null}
      {state === 'draft' ? <p>{words.previewIntro(props.clientName)}</p> : null}
      {state === 'awaiting-approval' ? <p>{words.submittedBody(props.clientName)}</p> : null}
      {state === 'released' ? <p>{words.releasedBody}</p> : null}
      {state === 'declined' ? <p>{words.declinedBody}</p> : null}
      {state === 'declined' && props.declineReason ? (
        <p>
          {words.declinedReason} <q>{props.declineReason}</q>
        </p>
      ) : null}
      {state === 'withdrawn' ? <p>{words.withdrawnBody}</p> : null}
      <p>{words.providerSeesIntro}</p>
      <UpdateDocument view={view} update={loaded.view} recipientName={loaded.recipientName} authorName={loaded.authorName} />
      {state === 'draft' || state === 'awaiting-approval' ? (
        <div class="button-group">
          {state === 'draft' ? action('submit', words.submitButton(props.clientName), false) : null}
          {action('withdraw', words.withdrawButton, true)}
        </div>
      ) : null}
      {props.patientId ? (
        <p>
          <a href={portalPath(`/practice/clients/${props.patientId}`)}>{words.backToClient}</a>
        </p>
      ) : null}
    </Layout>
  );
}
