/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/` signed in: who can see what. One card per sharing (the provider, what kind, what it sees in plain words,
 * therapy session notes never, why, from and until, status), what ends within 30 days first with a reminder, then
 * the rest in force, then what stopped or ended, folded away. A client who shares with nobody gets a calm word and the
 * way to start.
 */
import { sharingWords, type SharingWords } from '../../i18n/sharing';
import { updateWords } from '../../i18n/updates';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import { CategoryList, NeverShared, SharingFacts, SharingLinks } from './sharing-parts';
import type { OverviewView, SharingCard } from './sharing-view';

function Card(props: { card: SharingCard; words: SharingWords }) {
  const { card, words } = props;
  const headingId = `sharing-${card.id}`;
  return (
    <article class={card.endingReminder ? 'card card-ending' : 'card'} aria-labelledby={headingId}>
      <h3 id={headingId}>{card.recipientName}</h3>
      <p class="hint">{card.recipientKind}</p>
      <p>
        <strong class="tag">{card.statusText}</strong>
      </p>
      {card.endingReminder ? (
        <p class="ending-reminder">
          <strong>{card.endingReminder}</strong>
        </p>
      ) : null}
      <h4>{words.whatTheySee}</h4>
      <CategoryList card={card} words={words} />
      <h4>{words.neverShared}</h4>
      <NeverShared card={card} />
      <SharingFacts card={card} words={words} />
      <SharingLinks card={card} words={words} />
    </article>
  );
}

function PastSharing(props: { card: SharingCard; words: SharingWords }) {
  const { card, words } = props;
  return (
    <details class="past-sharing">
      <summary>{words.pastSummary(card.recipientName, card.statusText)}</summary>
      <div class="past-sharing-body">
        <p class="hint">{card.recipientKind}</p>
        <h4>{words.whatTheySee}</h4>
        <CategoryList card={card} words={words} />
        <SharingFacts card={card} words={words} />
        <SharingLinks card={card} words={words} />
      </div>
    </details>
  );
}

export function OverviewPage(props: { view: ViewContext; data: OverviewView; waitingUpdates?: number }) {
  const { view, data } = props;
  const words = sharingWords[view.lang];
  const sharing = data.endingSoon.length + data.current.length > 0;
  const waiting = props.waitingUpdates ?? 0;
  return (
    <Layout view={view}>
      <h1>{words.overviewHeading}</h1>
      {waiting > 0 ? (
        <p class="notice">
          <a href={portalPath('/updates')}>{updateWords[view.lang].waitingNotice(waiting)}</a>
        </p>
      ) : null}
      {sharing ? (
        <>
          <p>{words.overviewIntro}</p>
          <p class="hint">{words.overviewPracticeNote}</p>
        </>
      ) : (
        <div class="panel">
          <h2>{words.emptyHeading}</h2>
          <p>{words.emptyBody}</p>
          <p class="hint">{words.overviewPracticeNote}</p>
          <p>
            <a class="button" href={portalPath('/share')}>
              {words.shareWithProvider}
            </a>
          </p>
        </div>
      )}
      {data.endingSoon.length > 0 ? (
        <section aria-labelledby="ending-soon">
          <h2 id="ending-soon">{words.endingSoonHeading}</h2>
          {data.endingSoon.map((card) => (
            <Card key={card.id} card={card} words={words} />
          ))}
        </section>
      ) : null}
      {data.current.length > 0 ? (
        <section aria-labelledby="sharing-now">
          <h2 id="sharing-now">{words.currentHeading}</h2>
          {data.current.map((card) => (
            <Card key={card.id} card={card} words={words} />
          ))}
        </section>
      ) : null}
      {sharing ? (
        <p class="button-group">
          <a class="button button-secondary" href={portalPath('/share')}>
            {words.shareWithProvider}
          </a>
        </p>
      ) : null}
      {data.past.length > 0 ? (
        <section aria-labelledby="no-longer-sharing">
          <h2 id="no-longer-sharing">{words.pastHeading}</h2>
          <p class="hint">{words.pastIntro}</p>
          {data.past.map((card) => (
            <PastSharing key={card.id} card={card} words={words} />
          ))}
        </section>
      ) : null}
    </Layout>
  );
}
