/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/sharing/{consentId}`: one sharing in full (a summary list of the same facts as its card) and its history in
 * plain sentences: given, what changed between versions, stopped, with when and by whom as far as the record tells.
 */
import { sharingWords } from '../../i18n/sharing';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { SharingFacts, SharingLinks } from './sharing-parts';
import type { HistoryLine, SharingCard } from './sharing-view';

export interface ConsentPageData {
  readonly card: SharingCard;
  readonly history: readonly HistoryLine[];
}

export function ConsentPage(props: { view: ViewContext; data: ConsentPageData }) {
  const { view, data } = props;
  const { card } = data;
  const words = sharingWords[view.lang];
  return (
    <Layout view={view}>
      <p class="caption">{words.detailsCaption}</p>
      <h1>{card.recipientName}</h1>
      <p>
        <strong class="tag">{card.statusText}</strong>
      </p>
      {card.endingReminder ? (
        <p class="notice">
          <strong>{card.endingReminder}</strong>
        </p>
      ) : null}
      <SharingFacts card={card} words={words} full />
      <SharingLinks card={card} words={words} details={false} />
      <h2>{words.historyHeading}</h2>
      <p class="hint">{words.historyIntro}</p>
      <ol class="history">
        {data.history.map((line, index) => (
          <li key={index}>
            <p class="history-sentence">
              <strong>{line.sentence}</strong>
            </p>
            {line.details.length > 0 ? (
              <ul>
                {line.details.map((d, i) => (
                  <li key={i}>{d}</li>
                ))}
              </ul>
            ) : null}
            {line.when || line.who ? (
              <p class="hint">
                {line.when ? (
                  <>
                    {words.historyWhen}: <time dateTime={line.datetime}>{line.when}</time>
                  </>
                ) : null}
                {line.when && line.who ? ' · ' : null}
                {line.who ? `${words.historyWho}: ${line.who}` : null}
              </p>
            ) : null}
          </li>
        ))}
      </ol>
      <p>
        <a href={portalPath('/')}>{words.backToOverview}</a>
      </p>
    </Layout>
  );
}
