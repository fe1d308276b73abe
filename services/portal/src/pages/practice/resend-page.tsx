/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Re-send a referral to another provider: the practice's directory as radio buttons (the current partner left out),
 * an error summary linked to the choice when sent back without one, and the button that makes the new referral.
 */
import type { FieldProblem } from '../../views/components';
import { describedBy, ErrorSummary, FieldError } from '../../views/components';
import { CsrfField } from '../../views/csrf-field';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { practiceWords } from '../../i18n/practice';
import type { DirectoryProvider } from './practice-loader';

export const PROVIDER_FIELD = 'provider';

export function ResendPage(props: {
  view: ViewContext;
  taskId: string;
  client: string;
  reason: string | undefined;
  providers: readonly DirectoryProvider[];
  problems: readonly FieldProblem[];
}) {
  const { view, problems, providers } = props;
  const words = practiceWords[view.lang];
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <h1>{words.resendHeading(props.client)}</h1>
      <p>{words.resendIntro(props.reason ?? words.resendSameReason)}</p>
      {providers.length === 0 ? (
        <>
          <p>{words.resendNoProviders}</p>
          <p>
            <a href={portalPath('/practice/')}>{words.backToBoard}</a>
          </p>
        </>
      ) : (
        <form method="post" action={portalPath(`/practice/referrals/${props.taskId}/resend`)} novalidate>
          <CsrfField view={view} />
          <fieldset aria-describedby={describedBy(PROVIDER_FIELD, problems)}>
            <legend>{words.resendProviderLegend}</legend>
            <FieldError view={view} field={PROVIDER_FIELD} problems={problems} />
            {providers.map((provider, i) => {
              const id = i === 0 ? PROVIDER_FIELD : `${PROVIDER_FIELD}-${i + 1}`;
              return (
                <div class="choice" key={provider.reference}>
                  <input type="radio" id={id} name="provider" value={provider.reference} aria-describedby={provider.kind ? `${id}-hint` : undefined} />
                  <label for={id}>
                    {provider.name}
                    {provider.kind ? (
                      <span id={`${id}-hint`} class="hint">
                        {provider.kind}
                      </span>
                    ) : null}
                  </label>
                </div>
              );
            })}
          </fieldset>
          <div class="button-group">
            <button type="submit" class="button">
              {words.resendButton}
            </button>
            <a href={portalPath('/practice/')}>{words.backToBoard}</a>
          </div>
        </form>
      )}
    </Layout>
  );
}
