/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Cancel a referral, one clear page: which referral, what cancelling does, the reason the provider will read (required,
 * with an error summary linked to the field when sent back), and one warning button. The Task's version travels in
 * a hidden field, so the cancellation applies only to the referral as shown.
 */
import type { FieldProblem } from '../../views/components';
import { describedBy, ErrorSummary, FieldError } from '../../views/components';
import { CsrfField } from '../../views/csrf-field';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { practiceWords } from '../../i18n/practice';

export const REASON_FIELD = 'cancel-reason';
export const REASON_MAX_LENGTH = 500;

export function CancelPage(props: {
  view: ViewContext;
  taskId: string;
  version: string;
  client: string;
  partner: string;
  reason: string;
  problems: readonly FieldProblem[];
}) {
  const { view, problems } = props;
  const words = practiceWords[view.lang];
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <h1>{words.cancelHeading(props.client, props.partner)}</h1>
      <p>{words.cancelWhatHappens}</p>
      <form method="post" action={portalPath(`/practice/referrals/${props.taskId}/cancel`)} novalidate>
        <CsrfField view={view} />
        <input type="hidden" name="version" value={props.version} />
        <label for={REASON_FIELD}>{words.cancelReasonLabel}</label>
        <p id={`${REASON_FIELD}-hint`} class="hint">
          {words.cancelReasonHint}
        </p>
        <FieldError view={view} field={REASON_FIELD} problems={problems} />
        <textarea
          id={REASON_FIELD}
          name="reason"
          rows={4}
          maxLength={REASON_MAX_LENGTH}
          aria-describedby={describedBy(REASON_FIELD, problems, true)}
          aria-invalid={problems.length > 0 ? 'true' : undefined}
        >
          {props.reason}
        </textarea>
        <div class="button-group">
          <button type="submit" class="button button-warning">
            {words.cancelButton}
          </button>
          <a href={portalPath('/practice/')}>{words.keepReferral}</a>
        </div>
      </form>
    </Layout>
  );
}
