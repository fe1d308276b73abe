/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The referrals board (`/portal/practice/`): the practitioner's referrals grouped by state (overdue first), each with
 * its client, partner, what it asks for, the time to its acknowledgement deadline, its follow-up state, the last
 * message and its actions (remind again as a form button; cancel and re-send as links to their own pages), then the
 * partners' response times when the API reports them. View data only: built in referral-board.ts.
 */
import { formatDate, formatDateTime } from '../../i18n/categories';
import { practiceWords } from '../../i18n/practice';
import { CsrfField } from '../../views/csrf-field';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import type { PartnerMetrics, ReferralBoard } from './practice-loader';
import { durationParts, type BoardReferral } from './referral-board';

export function BoardPage(props: { view: ViewContext; board: ReferralBoard; boardSize: number }) {
  const { view, board } = props;
  const words = practiceWords[view.lang];
  return (
    <Layout view={view}>
      <h1>{words.boardHeading}</h1>
      <p>{words.boardIntro}</p>
      {board.groups.length === 0 ? <p>{words.boardEmpty}</p> : null}
      {board.groups.map((group) => (
        <section key={group.state} aria-labelledby={`state-${group.state}`}>
          <h2 id={`state-${group.state}`}>
            {words.stateHeading[group.state]} <span class="tag">{words.stateCount(group.referrals.length)}</span>
          </h2>
          <ul class="plain-list">
            {group.referrals.map((referral) => (
              <ReferralCard key={referral.taskId} view={view} referral={referral} />
            ))}
          </ul>
        </section>
      ))}
      {board.more ? <p class="notice">{words.boardMore(props.boardSize)}</p> : null}
      {board.metrics && board.metrics.length > 0 ? <MetricsTable view={view} metrics={board.metrics} /> : null}
    </Layout>
  );
}

function ReferralCard(props: { view: ViewContext; referral: BoardReferral }) {
  const { view, referral } = props;
  const words = practiceWords[view.lang];
  const client = referral.clientName ?? words.someClient;
  const partner = referral.partnerName ?? words.unknownPartner;
  const headingId = `referral-${referral.taskId}`;
  return (
    <li class={`card${referral.state === 'overdue' ? ' card-ending' : ''}`}>
      <h3 id={headingId}>{words.referralFor(client)}</h3>
      <dl class="summary">
        <dt>{words.partnerLabel}</dt>
        <dd>{partner}</dd>
        {referral.reason ? (
          <>
            <dt>{words.reasonLabel}</dt>
            <dd>{referral.reason}</dd>
          </>
        ) : null}
        {referral.msToDeadline !== undefined && referral.due ? (
          <>
            <dt>{words.deadlineLabel}</dt>
            <dd>
              <strong>{deadlineWords(view, referral.msToDeadline)}</strong> {words.dueOn(formatDateTime(referral.due, view.lang))}
            </dd>
          </>
        ) : null}
        {referral.followUp && referral.followUp !== 'on-time' ? (
          <>
            <dt>{words.followUpLabel}</dt>
            <dd>{words.followUp[referral.followUp]}</dd>
          </>
        ) : null}
        {referral.statusReason && (referral.state === 'closed' || referral.state === 'expired') ? (
          <>
            <dt>{words.statusReasonLabel}</dt>
            <dd>{referral.statusReason}</dd>
          </>
        ) : null}
        <dt>{words.lastMessageLabel}</dt>
        <dd>
          {referral.lastMessage ? (
            <>
              {words.messageLine(
                referral.lastMessage.sent ? formatDate(referral.lastMessage.sent, view.lang) : '',
                referral.lastMessage.from ?? words.messageFromCareCircle,
              )}{' '}
              {referral.lastMessage.text ? <q>{referral.lastMessage.text}</q> : null}
            </>
          ) : (
            words.noMessages
          )}
        </dd>
      </dl>
      <Actions view={view} referral={referral} client={client} partner={partner} />
    </li>
  );
}

function Actions(props: { view: ViewContext; referral: BoardReferral; client: string; partner: string }) {
  const { view, referral, client, partner } = props;
  const words = practiceWords[view.lang];
  const { actions } = referral;
  if (!actions.remind && !actions.cancel && !actions.resend) {
    return null;
  }
  return (
    <div class="button-group" role="group" aria-label={words.actionsLabel(client)}>
      {actions.remind ? (
        <form method="post" action={portalPath(`/practice/referrals/${referral.taskId}/remind`)} class="inline-form">
          <CsrfField view={view} />
          <button type="submit" class="button button-secondary">
            {words.remindButton}
            <span class="visually-hidden">{words.remindButtonHidden(client, partner)}</span>
          </button>
        </form>
      ) : null}
      {actions.resend ? (
        <a href={portalPath(`/practice/referrals/${referral.taskId}/resend`)}>
          {words.resendLink}
          <span class="visually-hidden">{words.linkHidden(client, partner)}</span>
        </a>
      ) : null}
      {actions.cancel ? (
        <a class="link-warning" href={portalPath(`/practice/referrals/${referral.taskId}/cancel`)}>
          {words.cancelLink}
          <span class="visually-hidden">{words.linkHidden(client, partner)}</span>
        </a>
      ) : null}
    </div>
  );
}

/** "Due in 2 days" / "5 hours overdue". */
export function deadlineWords(view: ViewContext, msToDeadline: number): string {
  const words = practiceWords[view.lang];
  const { value, unit } = durationParts(msToDeadline);
  return msToDeadline > 0 ? words.dueIn(value, unit) : words.overdueBy(value, unit);
}

function MetricsTable(props: { view: ViewContext; metrics: readonly PartnerMetrics[] }) {
  const { view } = props;
  const words = practiceWords[view.lang];
  const hours = (value: number | undefined) => (value === undefined ? words.metricsNone : String(Math.round(value * 10) / 10));
  return (
    <section aria-labelledby="metrics-heading">
      <h2 id="metrics-heading">{words.metricsHeading}</h2>
      <p>{words.metricsIntro}</p>
      <table>
        <caption class="visually-hidden">{words.metricsCaption}</caption>
        <thead>
          <tr>
            <th scope="col">{words.metricsPartner}</th>
            <th scope="col">{words.metricsReferrals}</th>
            <th scope="col">{words.metricsAckMedian}</th>
            <th scope="col">{words.metricsAckP90}</th>
            <th scope="col">{words.metricsCompletionMedian}</th>
            <th scope="col">{words.metricsShareOverdue}</th>
          </tr>
        </thead>
        <tbody>
          {props.metrics.map((m, i) => (
            <tr key={i}>
              <th scope="row">{m.partnerName ?? words.unknownPartner}</th>
              <td>{m.referrals === undefined ? words.metricsNone : String(m.referrals)}</td>
              <td>{hours(m.ackMedianHours)}</td>
              <td>{hours(m.ackP90Hours)}</td>
              <td>{hours(m.completionMedianHours)}</td>
              <td>{m.shareOverdue === undefined ? words.metricsNone : words.percent(m.shareOverdue)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
