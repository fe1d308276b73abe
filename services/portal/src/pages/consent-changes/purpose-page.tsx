/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** Why the provider may see it: to treat the client (the default) or to coordinate their care. */
import { OFFERED_PURPOSES, purposeName } from '../../i18n/categories';
import { describedBy, ErrorSummary, FieldError } from '../../views/components';
import { Layout } from '../../views/layout';
import { FIELD } from './consent-answers';
import { choiceId, StepButtons, StepForm, wordsOf, type StepProps } from './flow-form';

export function PurposePage(props: StepProps) {
  const { view, problems, answers } = props;
  const words = wordsOf(view);
  // Treatment is chosen unless the client chose otherwise (the default, and by far the most common).
  const chosen = answers.purpose ?? (problems.length === 0 ? 'TREAT' : undefined);
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <StepForm step="purpose" props={props}>
        <fieldset aria-describedby={describedBy(FIELD.purpose, problems, true)}>
          <legend class="page-legend">
            <h1>{words.purposeHeading}</h1>
          </legend>
          <p id={`${FIELD.purpose}-hint`} class="hint">
            {words.purposeHint}
          </p>
          <FieldError view={view} field={FIELD.purpose} problems={problems} />
          {OFFERED_PURPOSES.map((purpose, index) => {
            const id = choiceId(FIELD.purpose, index);
            return (
              <div class="choice" key={purpose}>
                <input type="radio" id={id} name="purpose" value={purpose} checked={chosen === purpose} aria-describedby={`${id}-about`} />
                <div>
                  <label for={id}>{purposeName(purpose, view.lang)}</label>
                  <span id={`${id}-about`} class="hint">
                    {purpose === 'TREAT' ? words.purposeHintTREAT : words.purposeHintCAREMGT}
                  </span>
                </div>
              </div>
            );
          })}
        </fieldset>
        <StepButtons words={words} back={true} />
      </StepForm>
    </Layout>
  );
}
