/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Writing a coordinated update, GOV.UK question pages: first the provider (only those the client shares with), then
 * what to send (the client's record by share category, each record a checkbox with what it holds; categories the
 * client does not share with that provider shown but not choosable; psychotherapy notes never offered) and the letter.
 * Answers travel in the form (the provider in a hidden field), never in the URL or the session.
 */
import type { Resource } from '@medplum/fhirtypes';
import { categoryName, SHAREABLE_CATEGORIES } from '../../i18n/categories';
import { sharingWords } from '../../i18n/sharing';
import { updateWords } from '../../i18n/updates';
import { describedBy, ErrorSummary, FieldError, type FieldProblem } from '../../views/components';
import { CsrfField } from '../../views/csrf-field';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { describeResource } from '../sharing/summary-preview';
import type { SharingRecipient } from './drafting-loader';

export const RECIPIENT_FIELD = 'recipient';
export const RECORDS_FIELD = 'records';
export const LETTER_FIELD = 'letter';

export function RecipientPage(props: { view: ViewContext; patientId: string; clientName: string; recipients: readonly SharingRecipient[]; problems: readonly FieldProblem[] }) {
  const { view, problems, recipients } = props;
  const words = updateWords[view.lang];
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      {recipients.length === 0 ? (
        <>
          <h1>{words.recipientHeading(props.clientName)}</h1>
          <p>{words.noRecipients}</p>
          <p>
            <a href={portalPath(`/practice/clients/${props.patientId}`)}>{words.backToClient}</a>
          </p>
        </>
      ) : (
        <form method="post" action={portalPath(`/practice/clients/${props.patientId}/updates/new`)} novalidate>
          <CsrfField view={view} />
          <input type="hidden" name="step" value="recipient" />
          <fieldset aria-describedby={describedBy(RECIPIENT_FIELD, problems, true)}>
            <legend class="page-legend">
              <h1>{words.recipientHeading(props.clientName)}</h1>
            </legend>
            <p id={`${RECIPIENT_FIELD}-hint`} class="hint">
              {words.recipientHint}
            </p>
            <FieldError view={view} field={RECIPIENT_FIELD} problems={problems} />
            {recipients.map((recipient, i) => {
              const id = i === 0 ? RECIPIENT_FIELD : `${RECIPIENT_FIELD}-${i + 1}`;
              return (
                <div class="choice" key={recipient.reference}>
                  <input type="radio" id={id} name="recipient" value={recipient.reference} />
                  <label for={id}>{recipient.name}</label>
                </div>
              );
            })}
          </fieldset>
          <div class="button-group">
            <button type="submit" class="button">
              {words.continue}
            </button>
            <a href={portalPath(`/practice/clients/${props.patientId}`)}>{words.back}</a>
          </div>
        </form>
      )}
    </Layout>
  );
}

export function ChartPage(props: {
  view: ViewContext;
  patientId: string;
  recipient: SharingRecipient;
  chart: ReadonlyMap<string, readonly Resource[]>;
  chosen: ReadonlySet<string>;
  letter: string;
  problems: readonly FieldProblem[];
}) {
  const { view, problems, recipient } = props;
  const words = updateWords[view.lang];
  const describe = sharingWords[view.lang];
  let first = true;
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <h1>{words.chartHeading(recipient.name)}</h1>
      <p>{words.chartIntro}</p>
      <form method="post" action={portalPath(`/practice/clients/${props.patientId}/updates/new`)} novalidate>
        <CsrfField view={view} />
        <input type="hidden" name="step" value="draft" />
        <input type="hidden" name="recipient" value={recipient.reference} />
        <FieldError view={view} field={RECORDS_FIELD} problems={problems} />
        {SHAREABLE_CATEGORIES.map((category) => {
          const records = props.chart.get(category) ?? [];
          const covered = recipient.categories.has(category);
          const legendId = `category-${category}`;
          return (
            <fieldset key={category} aria-describedby={covered ? undefined : `${legendId}-hint`}>
              <legend>{categoryName(category, view.lang)}</legend>
              {!covered ? (
                <p id={`${legendId}-hint`} class="hint">
                  {words.notCovered(recipient.name)}
                </p>
              ) : null}
              {records.length === 0 ? <p class="hint">{words.nothingInCategory}</p> : null}
              {records.map((record) => {
                const reference = `${record.resourceType}/${record.id ?? ''}`;
                const id = covered && first ? RECORDS_FIELD : `record-${record.resourceType}-${record.id ?? ''}`;
                if (covered) {
                  first = false;
                }
                const [sentence, ...details] = describeResource(record, describe, view.lang);
                return (
                  <div class="choice" key={reference}>
                    <input type="checkbox" id={id} name="record" value={reference} checked={props.chosen.has(reference)} disabled={!covered} />
                    <label for={id}>
                      {sentence}
                      {details.length > 0 ? <span class="hint">{details.join(' ')}</span> : null}
                    </label>
                  </div>
                );
              })}
            </fieldset>
          );
        })}
        <p class="hint">{words.neverInUpdate}</p>
        <label for={LETTER_FIELD}>{words.letterLabel}</label>
        <p id={`${LETTER_FIELD}-hint`} class="hint">
          {words.letterHint}
        </p>
        <FieldError view={view} field={LETTER_FIELD} problems={problems} />
        <textarea id={LETTER_FIELD} name="letter" rows={8} aria-describedby={describedBy(LETTER_FIELD, problems, true)}>
          {props.letter}
        </textarea>
        <div class="button-group">
          <button type="submit" class="button">
            {words.saveDraft}
          </button>
          <a href={portalPath(`/practice/clients/${props.patientId}/updates/new`)}>{words.back}</a>
        </div>
      </form>
    </Layout>
  );
}
