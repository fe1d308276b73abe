/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * A coordinated update exactly as its provider receives it: who it is from and for, the date, the therapist's letter,
 * each shared part of the record in plain sentences by category, and (once released) the notice against
 * re-disclosure. The same on the therapist's preview and the client's page, so both see what the provider will.
 */
import { formatDate } from '../../i18n/categories';
import { updateWords } from '../../i18n/updates';
import type { ViewContext } from '../../views/view-context';
import type { UpdateView } from './update-view';

export function UpdateDocument(props: { view: ViewContext; update: UpdateView; recipientName: string; authorName: string | undefined }) {
  const { view, update } = props;
  const words = updateWords[view.lang];
  return (
    <section class="panel update-document" aria-labelledby={`update-${update.id}`}>
      <h2 id={`update-${update.id}`}>{words.updateFor(props.recipientName)}</h2>
      <dl class="summary">
        {props.authorName ? (
          <>
            <dt>{words.fromLabel}</dt>
            <dd>{props.authorName}</dd>
          </>
        ) : null}
        <dt>{words.toLabel}</dt>
        <dd>{props.recipientName}</dd>
        {update.date ? (
          <>
            <dt>{words.dateLabel}</dt>
            <dd>{formatDate(update.date, view.lang)}</dd>
          </>
        ) : null}
      </dl>
      <h3>{words.letterHeading}</h3>
      {update.letter.length > 0 ? update.letter.map((p, i) => <p key={i}>{p}</p>) : <p>{words.noLetter}</p>}
      <h3>{words.sharedHeading}</h3>
      {update.sections.length === 0 ? <p>{words.nothingChosen}</p> : null}
      {update.sections.map((section) => (
        <div key={section.category}>
          <h4>{section.title}</h4>
          <ul class="preview-entries">
            {section.entries.map((lines, i) => (
              <li key={i}>
                {lines[0]}
                {lines.length > 1 ? (
                  <ul>
                    {lines.slice(1).map((line, j) => (
                      <li key={j}>{line}</li>
                    ))}
                  </ul>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ))}
      {update.notice.length > 0 ? (
        <>
          <h3>{words.noticeHeading}</h3>
          {update.notice.map((p, i) => (
            <p key={i} class="notice">
              {p}
            </p>
          ))}
        </>
      ) : null}
    </section>
  );
}
