/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * Pieces the sharing pages share: the categories a provider sees (each with what it contains), therapy session notes
 * as never shared, the facts of a sharing as a summary list, and the links to act on it.
 */
import type { SharingWords } from '../../i18n/sharing';
import { portalPath } from '../../views/view-context';
import type { SharingCard } from './sharing-view';

export function CategoryList(props: { card: SharingCard; words: SharingWords }) {
  const { card, words } = props;
  if (card.categories.length === 0) {
    return <p>{words.nothingListed}</p>;
  }
  return (
    <ul class="category-list">
      {card.categories.map((c) => (
        <li key={c.code}>
          <strong>{c.name}</strong>
          {c.contains ? <span class="category-contains">{c.contains}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function NeverShared(props: { card: SharingCard }) {
  return (
    <p class="sharing-never">
      <strong>{props.card.neverShared.name}</strong>
      <span class="category-contains">{props.card.neverShared.why}</span>
    </p>
  );
}

/** Why, from, until (and, on the details page, what and status) as a GOV.UK summary list. */
export function SharingFacts(props: { card: SharingCard; words: SharingWords; full?: boolean }) {
  const { card, words } = props;
  return (
    <dl class="summary">
      {props.full ? (
        <>
          <dt>{words.providerKind}</dt>
          <dd>{card.recipientKind}</dd>
          <dt>{words.whatTheySee}</dt>
          <dd>
            <CategoryList card={card} words={words} />
          </dd>
          <dt>{words.neverShared}</dt>
          <dd>
            <NeverShared card={card} />
          </dd>
        </>
      ) : null}
      <dt>{words.purpose}</dt>
      <dd>{card.purpose}</dd>
      <dt>{words.from}</dt>
      <dd>{card.from}</dd>
      <dt>{words.until}</dt>
      <dd>{card.until}</dd>
      {props.full ? (
        <>
          <dt>{words.status}</dt>
          <dd>{card.statusText}</dd>
        </>
      ) : null}
    </dl>
  );
}

/**
 * A link whose accessible name also names the provider, so a list of links read alone still says which (the visible
 * words come first in the name, WCAG 2.5.3).
 */
function CardLink(props: { href: string; label: string; card: SharingCard; words: SharingWords; class?: string }) {
  return (
    <a href={props.href} class={props.class} aria-label={`${props.label}${props.words.linkSuffix(props.card.recipientName)}`}>
      {props.label}
    </a>
  );
}

/** Details, preview, change and stop, for a sharing (change and stop only while it is in force or about to be). */
export function SharingLinks(props: { card: SharingCard; words: SharingWords; details?: boolean }) {
  const { card, words } = props;
  const base = `/sharing/${card.id}`;
  return (
    <ul class="sharing-links">
      {props.details !== false ? (
        <li>
          <CardLink href={portalPath(base)} label={words.linkDetails} card={card} words={words} />
        </li>
      ) : null}
      <li>
        <CardLink href={portalPath(`${base}/preview`)} label={words.linkPreview} card={card} words={words} />
      </li>
      {card.changeable ? (
        <>
          <li>
            <CardLink href={portalPath(`${base}/change`)} label={words.linkChange} card={card} words={words} />
          </li>
          <li>
            <CardLink href={portalPath(`${base}/stop`)} label={words.linkStop} card={card} words={words} class="link-warning" />
          </li>
        </>
      ) : null}
    </ul>
  );
}
