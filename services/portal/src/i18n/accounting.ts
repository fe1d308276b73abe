/**
 * Words of "Who saw what": the accounting of disclosures and denials, its filters, its sentences and its CSV download.
 * A sentence is built from parts (who, did what, to which of your information, how many items, allowed or not), so each
 * language orders them its own way (pages/accounting/accounting-sentence.ts puts them together).
 */
import { defineCatalogue } from './catalogue';
import type { ShareableCategory } from './categories';

/** What happened, as the API's AuditEvent subtype says, in the portal's words. */
export type AccountingInteraction = 'read' | 'search' | 'summary' | 'history' | 'notification';

export const accounting = defineCatalogue(
  {
    heading: 'Who saw what',
    intro:
      'Each time a provider outside your practice saw part of your record, or tried to and was not allowed, it is listed here, newest first.',
    notListed: 'Your practice’s own work with your record, and your own visits to this page, are not listed.',

    filtersHeading: 'Filter the list',
    providerLabel: 'Provider',
    providerAll: 'All providers',
    fromLegend: 'From',
    toLegend: 'To',
    dateHint: 'For example, 27 3 2026',
    day: 'Day',
    month: 'Month',
    year: 'Year',
    applyFilters: 'Apply filters',
    clearFilters: 'Clear filters',

    errorProvider: 'Choose a provider from the list',
    errorFromIncomplete: 'Enter the full start date, with a day, month and year',
    errorToIncomplete: 'Enter the full end date, with a day, month and year',
    errorFromInvalid: 'The start date must be a real date',
    errorToInvalid: 'The end date must be a real date',
    errorToBeforeFrom: 'The end date must be the same as or after the start date',
    errorFixToSee: 'Correct the filters above to see the list.',

    summaryCount: (shown: number) => (shown === 1 ? 'There is 1 entry.' : `There are ${shown} entries.`),
    summaryPage: (shown: number) => (shown === 1 ? 'Showing 1 entry on this page.' : `Showing ${shown} entries on this page.`),
    filteredBy: 'This list is filtered.',
    emptyHeading: 'Nothing to show',
    emptyAll: 'No provider outside your practice has seen, or tried to see, any of your record yet.',
    emptyFiltered: 'No provider saw, or tried to see, any of your record for these filters.',

    olderEntries: 'Older entries',
    newestEntries: 'Back to the newest entries',
    pagination: 'More entries',
    pageExpired: 'The list was out of date, so it starts again from the newest entries.',

    download: 'Download this list as a spreadsheet (CSV)',
    downloadHint: 'The file has every entry for the filters you chose, not only this page.',

    outcomeAllowed: 'Allowed',
    outcomeDenied: 'Not allowed',
    timeLabel: (time: string) => `At ${time}`,

    // The sentence parts. {provider} has a name; the subjects below are what the sentence starts with.
    subjectSystem: (provider: string) => `${provider}’s system`,
    subjectPerson: (person: string, provider: string) => `${person} at ${provider}`,
    subjectPersonAlone: (person: string) => person,
    subjectOperator: 'The CareCircle service administrator',
    subjectUnknown: 'A provider CareCircle could not name',

    didRead: 'looked at',
    didSearch: 'searched for and found',
    didSummary: 'received a summary of',
    didHistory: 'looked at earlier versions of',
    didNotification: 'was sent a notification about',
    triedRead: 'tried to look at',
    triedSearch: 'tried to search',
    triedSummary: 'tried to get a summary of',
    triedHistory: 'tried to look at earlier versions of',
    triedNotification: 'was not sent a notification about',

    partOfRecord: 'part of your record',
    items: (n: string, one: boolean) => (one ? `${n} item` : `${n} items`),
    allowedBy: (date: string) => `allowed by what you shared on ${date}`,
    allowed: 'allowed',
    notAllowed: 'not allowed',
    tried: (times: string) => `tried ${times} times`,

    // CSV (the column headers and the words in its cells)
    csvHeaders: ['Date and time', 'Provider', 'Who', 'What', 'Categories', 'Items', 'Outcome', 'Times', 'Consent date'] as readonly string[],
    csvWhoSystem: 'System',
    csvWhoPerson: (name: string) => `Person: ${name}`,
    csvWhoPersonUnnamed: 'Person',
    csvWhoOperator: 'Service administrator',
    csvProviderUnknown: 'Not known',
    csvWhat: {
      read: 'Looked at',
      search: 'Searched',
      summary: 'Received a summary',
      history: 'Looked at earlier versions',
      notification: 'Was sent a notification',
    } as Record<AccountingInteraction, string>,
    csvAllowed: 'allowed',
    csvDenied: 'not allowed',
  },
  {
    heading: 'Quién vio qué',
    intro:
      'Aquí aparece, de lo más reciente a lo más antiguo, cada vez que un proveedor de fuera de su consulta vio parte de su expediente, o lo intentó y no se le permitió.',
    notListed: 'No aparece el trabajo de su propia consulta con su expediente, ni sus propias visitas a esta página.',

    filtersHeading: 'Filtrar la lista',
    providerLabel: 'Proveedor',
    providerAll: 'Todos los proveedores',
    fromLegend: 'Desde',
    toLegend: 'Hasta',
    dateHint: 'Por ejemplo, 27 3 2026',
    day: 'Día',
    month: 'Mes',
    year: 'Año',
    applyFilters: 'Aplicar filtros',
    clearFilters: 'Quitar filtros',

    errorProvider: 'Elija un proveedor de la lista',
    errorFromIncomplete: 'Escriba la fecha de inicio completa, con día, mes y año',
    errorToIncomplete: 'Escriba la fecha de fin completa, con día, mes y año',
    errorFromInvalid: 'La fecha de inicio debe ser una fecha real',
    errorToInvalid: 'La fecha de fin debe ser una fecha real',
    errorToBeforeFrom: 'La fecha de fin debe ser igual o posterior a la fecha de inicio',
    errorFixToSee: 'Corrija los filtros de arriba para ver la lista.',

    summaryCount: (shown: number) => (shown === 1 ? 'Hay 1 entrada.' : `Hay ${shown} entradas.`),
    summaryPage: (shown: number) => (shown === 1 ? 'Se muestra 1 entrada en esta página.' : `Se muestran ${shown} entradas en esta página.`),
    filteredBy: 'Esta lista está filtrada.',
    emptyHeading: 'No hay nada que mostrar',
    emptyAll: 'Ningún proveedor de fuera de su consulta ha visto, ni intentado ver, nada de su expediente todavía.',
    emptyFiltered: 'Ningún proveedor vio, ni intentó ver, nada de su expediente con estos filtros.',

    olderEntries: 'Entradas más antiguas',
    newestEntries: 'Volver a las entradas más recientes',
    pagination: 'Más entradas',
    pageExpired: 'La lista estaba desactualizada, así que empieza de nuevo por las entradas más recientes.',

    download: 'Descargar esta lista como hoja de cálculo (CSV)',
    downloadHint: 'El archivo tiene todas las entradas de los filtros que eligió, no solo las de esta página.',

    outcomeAllowed: 'Permitido',
    outcomeDenied: 'No permitido',
    timeLabel: (time: string) => `A las ${time}`,

    subjectSystem: (provider: string) => `El sistema de ${provider}`,
    subjectPerson: (person: string, provider: string) => `${person}, de ${provider},`,
    subjectPersonAlone: (person: string) => person,
    subjectOperator: 'La administración del servicio CareCircle',
    subjectUnknown: 'Un proveedor que CareCircle no pudo identificar',

    didRead: 'consultó',
    didSearch: 'buscó y encontró',
    didSummary: 'recibió un resumen de',
    didHistory: 'consultó versiones anteriores de',
    didNotification: 'recibió un aviso sobre',
    triedRead: 'intentó consultar',
    triedSearch: 'intentó buscar',
    triedSummary: 'intentó obtener un resumen de',
    triedHistory: 'intentó consultar versiones anteriores de',
    triedNotification: 'no recibió un aviso sobre',

    partOfRecord: 'parte de su expediente',
    items: (n: string, one: boolean) => (one ? `${n} elemento` : `${n} elementos`),
    allowedBy: (date: string) => `permitido por lo que compartió el ${date}`,
    allowed: 'permitido',
    notAllowed: 'no permitido',
    tried: (times: string) => `lo intentó ${times} veces`,

    csvHeaders: ['Fecha y hora', 'Proveedor', 'Quién', 'Qué', 'Categorías', 'Elementos', 'Resultado', 'Veces', 'Fecha del permiso'],
    csvWhoSystem: 'Sistema',
    csvWhoPerson: (name: string) => `Persona: ${name}`,
    csvWhoPersonUnnamed: 'Persona',
    csvWhoOperator: 'Administración del servicio',
    csvProviderUnknown: 'Desconocido',
    csvWhat: {
      read: 'Consultó',
      search: 'Buscó',
      summary: 'Recibió un resumen',
      history: 'Consultó versiones anteriores',
      notification: 'Recibió un aviso',
    },
    csvAllowed: 'permitido',
    csvDenied: 'no permitido',
  },
);

/**
 * Each share category as the object of a sentence ("looked at your goals"): the plain names of i18n/categories.ts,
 * phrased to follow a verb.
 */
export const categoryPhrases = defineCatalogue<Record<ShareableCategory, string>>(
  {
    demographics: 'your basic details',
    'presenting-concerns': 'what brought you to therapy',
    'treatment-goals': 'your goals',
    'care-plan': 'your care plan',
    progress: 'how things are going',
    'trauma-history': 'your trauma history',
    'mental-health': 'your mental health',
    'sexual-history': 'your sexual history',
    medications: 'your medicines',
    'relationship-context': 'your relationships',
  },
  {
    demographics: 'sus datos básicos',
    'presenting-concerns': 'por qué vino a terapia',
    'treatment-goals': 'sus objetivos',
    'care-plan': 'su plan de atención',
    progress: 'cómo van las cosas',
    'trauma-history': 'su historia de trauma',
    'mental-health': 'su salud mental',
    'sexual-history': 'su historia sexual',
    medications: 'sus medicamentos',
    'relationship-context': 'sus relaciones',
  },
);
