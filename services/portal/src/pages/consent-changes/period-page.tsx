/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * How long the provider may see it: until the client stops it, or through a last day (the GOV.UK date input: day,
 * month and year fields, shown under their choice without JavaScript).
 */
import { describedBy, ErrorSummary, FieldError } from '../../views/components';
import { Layout } from '../../views/layout';
import { FIELD } from './consent-answers';
import { StepButtons, StepForm, wordsOf, type StepProps } from './flow-form';

export function PeriodPage(props: StepProps) {
  const { view, problems, answers } = props;
  const words = wordsOf(view);
  const dateProblem = problems.some((p) => p.field === FIELD.day);
  const dateClass = dateProblem ? 'share-date-item share-date-error' : 'share-date-item';
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <StepForm step="period" props={props}>
        <fieldset aria-describedby={describedBy(FIELD.until, problems, true)}>
          <legend class="page-legend">
            <h1>{words.periodHeading}</h1>
          </legend>
          <p id={`${FIELD.until}-hint`} class="hint">
            {words.periodHint}
          </p>
          <FieldError view={view} field={FIELD.until} problems={problems} />
          <div class="choice">
            <input type="radio" id={FIELD.until} name="until" value="open" checked={answers.untilKind === 'open'} />
            <label for={FIELD.until}>{words.untilOpen}</label>
          </div>
          <div class="choice">
            <input type="radio" id="until-date" name="until" value="date" checked={answers.untilKind === 'date'} />
            <label for="until-date">{words.untilDate}</label>
          </div>
          <div class="conditional">
            <fieldset role="group" aria-describedby={dateProblem ? 'until-date-hint until-date-error' : 'until-date-hint'}>
              <legend>{words.untilDateLegend}</legend>
              <p id="until-date-hint" class="hint">
                {words.untilDateHint}
              </p>
              {dateProblem ? (
                <p id="until-date-error" class="field-error">
                  <span class="visually-hidden">{view.t.errorPrefix} </span>
                  {problems.find((p) => p.field === FIELD.day)?.message}
                </p>
              ) : null}
              <div class="share-date">
                <div class={dateClass}>
                  <label for={FIELD.day}>{words.day}</label>
                  <input type="text" id={FIELD.day} name="until-day" inputmode="numeric" autocomplete="off" class="share-date-2" value={answers.day} />
                </div>
                <div class={dateClass}>
                  <label for="until-month">{words.month}</label>
                  <input type="text" id="until-month" name="until-month" inputmode="numeric" autocomplete="off" class="share-date-2" value={answers.month} />
                </div>
                <div class={dateClass}>
                  <label for="until-year">{words.year}</label>
                  <input type="text" id="until-year" name="until-year" inputmode="numeric" autocomplete="off" class="share-date-4" value={answers.year} />
                </div>
              </div>
            </fieldset>
          </div>
        </fieldset>
        <StepButtons words={words} back={true} />
      </StepForm>
    </Layout>
  );
}
