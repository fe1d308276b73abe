/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * "Who saw what" (`/portal/accounting`): the filter form (provider, from, to; a GET form: ids and dates only), then
 * the entries grouped by day, newest first, each a plain sentence with its time, and a way to the older entries and
 * to the CSV download. With problems in the filters: the form, its error summary, and no list.
 */
import { accounting } from '../../i18n/accounting';
import { formatDate } from '../../i18n/categories';
import { describedBy, ErrorSummary, FieldError, type FieldProblem } from '../../views/components';
import { Layout } from '../../views/layout';
import { portalPath, type ViewContext } from '../../views/view-context';
import type { AccountingEntry } from './accounting-entry';
import { dayKey, filterQuery, isFiltered, type AccountingFilters, type DateField, type DatePart } from './accounting-filters';
import type { AccountingPage as AccountingPageData, ProviderOption } from './accounting-loader';
import { accountingSentence } from './accounting-sentence';

export interface AccountingView {
  readonly filters: AccountingFilters;
  /** The providers to filter by. */
  readonly providers: readonly ProviderOption[];
  /** The list; undefined while the filters have problems. */
  readonly list: AccountingPageData | undefined;
  /** The page token had expired, so the list started again from the newest entries. */
  readonly restarted: boolean;
}

export function AccountingPage(props: { view: ViewContext; data: AccountingView }) {
  const { view, data } = props;
  const t = accounting[view.lang];
  const { filters, list } = data;
  return (
    <Layout view={view}>
      <ErrorSummary view={view} problems={filters.problems} />
      <h1>{t.heading}</h1>
      <p>{t.intro}</p>
      <p class="hint">{t.notListed}</p>
      <FilterForm view={view} filters={filters} providers={data.providers} />
      {list ? <Entries view={view} data={data} list={list} /> : <p>{t.errorFixToSee}</p>}
    </Layout>
  );
}

function FilterForm(props: { view: ViewContext; filters: AccountingFilters; providers: readonly ProviderOption[] }) {
  const { view, filters } = props;
  const t = accounting[view.lang];
  const problems = filters.problems;
  const selected = filters.values.provider;
  const options = props.providers;
  return (
    <form method="get" action={portalPath('/accounting')} class="accounting-filters" novalidate>
      <h2>{t.filtersHeading}</h2>
      <div class={problems.some((p) => p.field === 'provider') ? 'field field-with-error' : 'field'}>
        <label for="provider">{t.providerLabel}</label>
        <FieldError view={view} field="provider" problems={problems} />
        <select id="provider" name="provider" aria-describedby={describedBy('provider', problems)}>
          <option value="">{t.providerAll}</option>
          {options.map((p) => (
            <option key={p.reference} value={p.reference} selected={p.reference === selected}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      <DateInput view={view} field="from" legend={t.fromLegend} filters={filters} problems={problems} />
      <DateInput view={view} field="to" legend={t.toLegend} filters={filters} problems={problems} />
      <div class="button-group">
        <button type="submit" class="button">
          {t.applyFilters}
        </button>
        {isFiltered(filters) || problems.length > 0 ? <a href={portalPath('/accounting')}>{t.clearFilters}</a> : null}
      </div>
    </form>
  );
}

/** A GOV.UK date input: a fieldset of day, month and year, its hint and its error. */
function DateInput(props: { view: ViewContext; field: DateField; legend: string; filters: AccountingFilters; problems: readonly FieldProblem[] }) {
  const { view, field, problems } = props;
  const t = accounting[view.lang];
  const errorField = `${field}-day`;
  const hasError = problems.some((p) => p.field === errorField);
  const described = [`${field}-hint`, hasError ? `${errorField}-error` : undefined].filter(Boolean).join(' ');
  const parts: { part: DatePart; label: string; size: string }[] = [
    { part: 'day', label: t.day, size: 'date-input-2' },
    { part: 'month', label: t.month, size: 'date-input-2' },
    { part: 'year', label: t.year, size: 'date-input-4' },
  ];
  return (
    <div class={hasError ? 'field field-with-error' : 'field'}>
      <fieldset role="group" aria-describedby={described}>
        <legend>{props.legend}</legend>
        <p id={`${field}-hint`} class="hint">
          {t.dateHint}
        </p>
        <FieldError view={view} field={errorField} problems={problems} />
        <div class="date-input">
          {parts.map(({ part, label, size }) => (
            <div class="date-input-item" key={part}>
              <label for={`${field}-${part}`} class="date-input-label">
                {label}
              </label>
              <input
                type="text"
                inputmode="numeric"
                id={`${field}-${part}`}
                name={`${field}-${part}`}
                value={props.filters.values[field][part]}
                class={hasError ? `${size} input-error` : size}
                autocomplete="off"
                spellcheck={false}
              />
            </div>
          ))}
        </div>
      </fieldset>
    </div>
  );
}

function Entries(props: { view: ViewContext; data: AccountingView; list: AccountingPageData }) {
  const { view, data, list } = props;
  const t = accounting[view.lang];
  const { filters } = data;
  const days = groupByDay(list.entries);
  return (
    <>
      {data.restarted ? <p class="notice">{t.pageExpired}</p> : null}
      {list.entries.length === 0 ? (
        <div class="panel">
          <h2>{t.emptyHeading}</h2>
          <p>{isFiltered(filters) ? t.emptyFiltered : t.emptyAll}</p>
        </div>
      ) : (
        <>
          <p>
            {list.next || filters.page ? t.summaryPage(list.entries.length) : t.summaryCount(list.entries.length)}
            {isFiltered(filters) ? ` ${t.filteredBy}` : ''}
          </p>
          {days.map(({ day, entries }) => (
            <section key={day} aria-labelledby={`day-${day}`}>
              <h2 id={`day-${day}`}>
                <time dateTime={day}>{formatDate(day, view.lang)}</time>
              </h2>
              <ul class="accounting-list">
                {entries.map((entry) => (
                  <Entry key={entry.id} view={view} entry={entry} />
                ))}
              </ul>
            </section>
          ))}
        </>
      )}
      {list.next || filters.page ? (
        <nav aria-label={t.pagination} class="accounting-pages">
          <ul>
            {filters.page ? (
              <li>
                <a href={portalPath(`/accounting${filterQuery(filters)}`)}>{t.newestEntries}</a>
              </li>
            ) : null}
            {list.next ? (
              <li>
                <a href={portalPath(`/accounting${filterQuery(filters, list.next)}`)} rel="next">
                  {t.olderEntries}
                </a>
              </li>
            ) : null}
          </ul>
        </nav>
      ) : null}
      {list.entries.length > 0 ? (
        <p class="accounting-download">
          <a href={portalPath(`/accounting.csv${filterQuery(filters)}`)} download="carecircle-accounting.csv" aria-describedby="download-hint">
            {t.download}
          </a>
          <span id="download-hint" class="hint">
            {' '}
            {t.downloadHint}
          </span>
        </p>
      ) : null}
    </>
  );
}

function Entry(props: { view: ViewContext; entry: AccountingEntry }) {
  const { view, entry } = props;
  const t = accounting[view.lang];
  const sentence = accountingSentence(entry, view.lang);
  const time = new Intl.DateTimeFormat(view.lang === 'es' ? 'es-ES' : 'en-GB', { hour: '2-digit', minute: '2-digit' }).format(new Date(entry.recorded));
  return (
    <li class={entry.outcome === 'denied' ? 'accounting-entry accounting-denied' : 'accounting-entry'}>
      <p class="accounting-meta">
        <time dateTime={entry.recorded}>{t.timeLabel(time)}</time>{' '}
        <strong class={entry.outcome === 'denied' ? 'tag tag-denied' : 'tag'}>{entry.outcome === 'denied' ? t.outcomeDenied : t.outcomeAllowed}</strong>
      </p>
      <p class="accounting-sentence">
        {sentence.text}
        {' — '}
        {sentence.ending.href ? <a href={sentence.ending.href}>{sentence.ending.text}</a> : sentence.ending.text}
        {sentence.times ? ` (${sentence.times})` : ''}
      </p>
    </li>
  );
}

function groupByDay(entries: readonly AccountingEntry[]): { day: string; entries: AccountingEntry[] }[] {
  const groups: { day: string; entries: AccountingEntry[] }[] = [];
  for (const entry of entries) {
    const day = dayKey(entry.recorded);
    const last = groups[groups.length - 1];
    if (last?.day === day) {
      last.entries.push(entry);
    } else {
      groups.push({ day, entries: [entry] });
    }
  }
  return groups;
}
