/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/** Sharing: check your answers, in plain words, each with a way to change it. Nothing is shared yet. */
import { categoryName, NEVER_SHARED_CATEGORY } from '../../i18n/categories';
import { Layout } from '../../views/layout';
import type { ConsentTerms } from './consent-resource';
import { StepButtons, StepForm, wordsOf, type StepProps } from './flow-form';
import { NameList, SummaryRow } from './summary-rows';
import { purposeWords, untilWords } from './terms-words';

export function ReviewPage(props: StepProps & { terms: ConsentTerms }) {
  const { view, terms } = props;
  const words = wordsOf(view);
  return (
    <Layout view={view}>
      <h1>{words.reviewHeading}</h1>
      <StepForm step="review" props={props}>
        <dl class="summary summary-with-actions">
          <SummaryRow label={words.rowWho} words={words} change={{ step: 'provider', about: words.changeWho }}>
            {props.providerName}
          </SummaryRow>
          <SummaryRow label={words.rowWhat} words={words} change={{ step: 'categories', about: words.changeWhat }}>
            <NameList names={terms.categories.map((c) => categoryName(c, view.lang))} />
          </SummaryRow>
          <SummaryRow label={words.rowWhy} words={words} change={{ step: 'purpose', about: words.changeWhy }}>
            {purposeWords(terms.purpose, view.lang)}
          </SummaryRow>
          <SummaryRow label={words.rowUntil} words={words} change={{ step: 'period', about: words.changeUntil }}>
            {untilWords(terms.until, view.lang)}
          </SummaryRow>
          <SummaryRow label={words.rowNeverShared} words={words}>
            {categoryName(NEVER_SHARED_CATEGORY, view.lang)}
          </SummaryRow>
        </dl>
        <p class="notice">{words.reviewNothingYet}</p>
        <StepButtons words={words} back={true} />
      </StepForm>
    </Layout>
  );
}
