/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The electronic signature: the statement, in full, as the label of the box the client ticks, and the full name they
 * type. Both are required; only this page's button gives or changes sharing.
 */
import { describedBy, ErrorSummary, FieldError } from '../../views/components';
import { Layout } from '../../views/layout';
import { FIELD, type Signature } from './consent-answers';
import { StepButtons, StepForm, wordsOf, type StepProps } from './flow-form';

export function SignPage(props: StepProps & { statement: string; signature: Signature }) {
  const { view, problems, signature } = props;
  const words = wordsOf(view);
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <h1>{words.signHeading}</h1>
      <p>{words.signIntro}</p>
      <StepForm step="sign" props={props}>
        <fieldset aria-describedby={describedBy(FIELD.agree, problems)}>
          <legend>{words.agreeLegend}</legend>
          <FieldError view={view} field={FIELD.agree} problems={problems} />
          <div class="choice statement">
            <input type="checkbox" id={FIELD.agree} name="signature-agree" value="yes" checked={signature.agreed} />
            <label for={FIELD.agree}>{props.statement}</label>
          </div>
        </fieldset>
        <label for={FIELD.name}>{words.nameLabel}</label>
        <p id={`${FIELD.name}-hint`} class="hint">
          {words.nameHint}
        </p>
        <FieldError view={view} field={FIELD.name} problems={problems} />
        <input
          type="text"
          id={FIELD.name}
          name="signature-name"
          autocomplete="name"
          spellcheck={false}
          value={signature.name}
          aria-describedby={describedBy(FIELD.name, problems, true)}
          aria-invalid={problems.some((p) => p.field === FIELD.name) ? 'true' : undefined}
        />
        <StepButtons words={words} submit={props.flow.kind === 'share' ? words.shareNow : words.confirmChange} back={true} />
      </StepForm>
    </Layout>
  );
}
