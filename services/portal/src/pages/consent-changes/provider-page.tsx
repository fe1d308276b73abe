/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** Sharing, step 1: choose a provider from those the practice works with (its directory). */
import { describedBy, ErrorSummary, FieldError } from '../../views/components';
import { Layout } from '../../views/layout';
import { portalPath } from '../../views/view-context';
import { FIELD } from './consent-answers';
import { choiceId, StepButtons, StepForm, wordsOf, type StepProps } from './flow-form';
import type { Provider } from './sharing-loaders';

export interface ProviderChoice extends Provider {
  /** The client shares something with this provider already. */
  readonly alreadySharing: boolean;
}

export function ProviderPage(props: StepProps & { providers: readonly ProviderChoice[] }) {
  const { view, problems, answers } = props;
  const words = wordsOf(view);
  if (props.providers.length === 0) {
    return (
      <Layout view={view}>
        <h1>{words.providerNoneHeading}</h1>
        <p>{words.providerNoneBody}</p>
        <p>
          <a href={portalPath('/')}>{words.goToOverview}</a>
        </p>
      </Layout>
    );
  }
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <StepForm step="provider" props={props}>
        <fieldset aria-describedby={describedBy(FIELD.recipient, problems, true)}>
          <legend class="page-legend">
            <h1>{words.providerHeading}</h1>
          </legend>
          <p id={`${FIELD.recipient}-hint`} class="hint">
            {words.providerHint}
          </p>
          <FieldError view={view} field={FIELD.recipient} problems={problems} />
          {props.providers.map((provider, index) => {
            const id = choiceId(FIELD.recipient, index);
            const hints = [provider.kind ? `${id}-kind` : undefined, provider.alreadySharing ? `${id}-already` : undefined].filter(Boolean).join(' ');
            return (
              <div class="choice" key={provider.reference}>
                <input
                  type="radio"
                  id={id}
                  name="recipient"
                  value={provider.reference}
                  checked={answers.recipient === provider.reference}
                  aria-describedby={hints || undefined}
                />
                <div>
                  <label for={id}>{provider.name}</label>
                  {provider.kind ? (
                    <span id={`${id}-kind`} class="hint">
                      {provider.kind}
                    </span>
                  ) : null}
                  {provider.alreadySharing ? (
                    <span id={`${id}-already`} class="hint">
                      {words.providerAlreadySharing}
                    </span>
                  ) : null}
                </div>
              </div>
            );
          })}
        </fieldset>
        <StepButtons words={words} back={false} />
      </StepForm>
    </Layout>
  );
}
