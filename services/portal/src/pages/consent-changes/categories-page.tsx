/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Choose what the provider can see: each share category with its plain name, what it holds and an example;
 * psychotherapy notes shown as never shared (with why), never as a choice.
 */
import { categoryWords, NEVER_SHARED_CATEGORY, SHAREABLE_CATEGORIES } from '../../i18n/categories';
import { describedBy, ErrorSummary, FieldError } from '../../views/components';
import { Layout } from '../../views/layout';
import { FIELD } from './consent-answers';
import { choiceId, StepButtons, StepForm, wordsOf, type StepProps } from './flow-form';

export function CategoriesPage(props: StepProps) {
  const { view, problems, answers } = props;
  const words = wordsOf(view);
  const categories = categoryWords[view.lang];
  const never = categories[NEVER_SHARED_CATEGORY];
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={problems} />
      <StepForm step="categories" props={props}>
        <fieldset aria-describedby={describedBy(FIELD.categories, problems, true)}>
          <legend class="page-legend">
            <h1>{words.categoriesHeading(props.providerName)}</h1>
          </legend>
          <p id={`${FIELD.categories}-hint`} class="hint">
            {words.categoriesHint}
          </p>
          <FieldError view={view} field={FIELD.categories} problems={problems} />
          {SHAREABLE_CATEGORIES.map((code, index) => {
            const id = choiceId(FIELD.categories, index);
            return (
              <div class="choice" key={code}>
                <input type="checkbox" id={id} name="category" value={code} checked={answers.categories.includes(code)} aria-describedby={`${id}-about`} />
                <div>
                  <label for={id}>{categories[code].name}</label>
                  <span id={`${id}-about`} class="hint">
                    {categories[code].contains} {categories[code].example}
                  </span>
                </div>
              </div>
            );
          })}
        </fieldset>
        <div class="panel never-shared">
          <h2>{words.neverSharedHeading}</h2>
          <p>
            <strong>{never.name}.</strong> {never.contains} {never.example}
          </p>
        </div>
        <StepButtons words={words} back={props.flow.kind === 'share'} />
      </StepForm>
    </Layout>
  );
}
