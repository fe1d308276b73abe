/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Changing what a provider sees: the change in plain words ("They will now also see", "They will no longer see",
 * "Until: 1 Mar 2027 (was: until you stop it)"), each with a way to change it. Nothing has changed yet; with no change
 * there is nothing to sign.
 */
import { categoryName } from '../../i18n/categories';
import { Layout } from '../../views/layout';
import type { ConsentChange } from './consent-diff';
import type { ConsentTerms } from './consent-resource';
import { StepButtons, StepForm, wordsOf, type StepProps } from './flow-form';
import { NameList, SummaryRow } from './summary-rows';
import { purposeWords, untilWords } from './terms-words';

export function ChangeReviewPage(props: StepProps & { terms: ConsentTerms; change: ConsentChange }) {
  const { view, terms, change } = props;
  const words = wordsOf(view);
  const names = (codes: ConsentChange['added']) => codes.map((c) => categoryName(c, view.lang));
  const rows: Array<{ label: string; codes: ConsentChange['added'] }> = [
    { label: words.alsoSee, codes: change.added },
    { label: words.noLongerSee, codes: change.removed },
    { label: words.stillSee, codes: change.kept },
  ].filter((r) => r.codes.length > 0);
  const why = purposeWords(terms.purpose, view.lang);
  const until = untilWords(terms.until, view.lang);
  return (
    <Layout view={view}>
      <h1>{words.changeReviewHeading}</h1>
      <p>{words.changeReviewIntro(props.providerName)}</p>
      <StepForm step="review" props={props}>
        <dl class="summary summary-with-actions">
          {rows.map((row, index) => (
            <SummaryRow key={row.label} label={row.label} words={words} change={index === 0 ? { step: 'categories', about: words.changeWhat } : undefined}>
              <NameList names={names(row.codes)} />
            </SummaryRow>
          ))}
          <SummaryRow label={words.rowWhy} words={words} change={{ step: 'purpose', about: words.changeWhy }}>
            {change.purpose ? words.wasValue(why, purposeWords(change.purpose.before, view.lang)) : why}
          </SummaryRow>
          <SummaryRow label={words.rowUntil} words={words} change={{ step: 'period', about: words.changeUntil }}>
            {change.until ? words.wasValue(until, untilWords(change.until.before, view.lang)) : until}
          </SummaryRow>
        </dl>
        {change.unchanged ? (
          <p class="notice">{words.noChangeYet}</p>
        ) : (
          <p class="notice">{words.narrowingNote}</p>
        )}
        {change.unchanged ? (
          <div class="button-group">
            <button type="submit" name="back" value="1" class="button button-secondary">
              {words.back}
            </button>
          </div>
        ) : (
          <StepButtons words={words} back={true} />
        )}
      </StepForm>
    </Layout>
  );
}
