/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * `/portal/sharing/{consentId}/preview`: exactly what that provider's system would get now (the client's `$summary`
 * previewed for it), section by section in plain sentences; the categories shared that hold nothing yet; and, for a
 * sharing not in force, that it lets them see nothing.
 */
import { sharingWords } from '../../i18n/sharing';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import type { PreviewEntry, SummaryPreview } from './summary-preview';
import type { SharingCard } from './sharing-view';

export interface PreviewPageData {
  readonly card: SharingCard;
  /** Undefined when the sharing is not in force (nothing asked of the API). */
  readonly preview: SummaryPreview | undefined;
  /** The plain names of the categories shared but empty. */
  readonly emptyCategoryNames: readonly string[];
}

function Entries(props: { entries: readonly PreviewEntry[] }) {
  return (
    <ul class="preview-entries">
      {props.entries.map((entry, index) => {
        const [first, ...rest] = entry.lines;
        return (
          <li key={index}>
            {first}
            {rest.length > 0 ? (
              <ul>
                {rest.map((line, i) => (
                  <li key={i}>{line}</li>
                ))}
              </ul>
            ) : null}
          </li>
        );
      })}
    </ul>
  );
}

export function PreviewPage(props: { view: ViewContext; data: PreviewPageData }) {
  const { view, data } = props;
  const { card, preview } = data;
  const words = sharingWords[view.lang];
  const nothing = !preview || (preview.aboutYou.length === 0 && preview.sections.length === 0);
  return (
    <Layout view={view}>
      <p class="caption">{words.previewCaption}</p>
      <h1>{card.recipientName}</h1>
      {!preview ? (
        <div class="panel">
          <p>{words.previewNothingActive(card.recipientName)}</p>
          <p>
            <strong class="tag">{card.statusText}</strong>
          </p>
        </div>
      ) : (
        <>
          <div class="panel">
            <p>
              <strong>{words.previewStatement(card.recipientName)}</strong>
            </p>
            <p>{words.previewHowItWorks}</p>
          </div>
          {nothing ? <p>{words.previewNothingAtAll(card.recipientName)}</p> : null}
          {preview.aboutYou.length > 0 ? (
            <section aria-labelledby="preview-about-you">
              <h2 id="preview-about-you">{words.previewAboutYou}</h2>
              <p class="hint">{words.previewAboutYouHint}</p>
              <Entries entries={preview.aboutYou} />
            </section>
          ) : null}
          {preview.sections.map((section) => (
            <section key={section.category} aria-labelledby={`preview-${section.category}`}>
              <h2 id={`preview-${section.category}`}>{section.title}</h2>
              <Entries entries={section.entries} />
            </section>
          ))}
          {data.emptyCategoryNames.length > 0 ? (
            <section aria-labelledby="preview-empty">
              <h2 id="preview-empty">{words.previewEmptyHeading}</h2>
              <p>{words.previewEmptyBody(card.recipientName)}</p>
              <ul>
                {data.emptyCategoryNames.map((name) => (
                  <li key={name}>{name}</li>
                ))}
              </ul>
            </section>
          ) : null}
          <p class="hint">{words.previewNeverShared}</p>
        </>
      )}
      <ul class="sharing-links">
        <li>
          <a href={portalPath(`/sharing/${card.id}`)} aria-label={`${words.linkDetails}${words.linkSuffix(card.recipientName)}`}>
            {words.linkDetails}
          </a>
        </li>
        <li>
          <a href={portalPath('/')}>{words.backToOverview}</a>
        </li>
      </ul>
    </Layout>
  );
}
