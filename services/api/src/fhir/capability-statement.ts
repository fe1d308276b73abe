/**
 * The CapabilityStatement at /fhir/R4/metadata: generated from what the server really supports (the resource types
 * the store serves, the search parameters it indexes, the interactions the router implements, the operations in the
 * registry), so it cannot drift.
 */
import type { Config } from '@carecircle/config';
import { BALP_OAUTH_TOKEN_PROFILE, BALP_PATIENT_QUERY_PROFILE, BALP_PATIENT_READ_PROFILE } from '@carecircle/consent';
import { APPEND_ONLY_RESOURCE_TYPES, SUPPORTED_RESOURCE_TYPES } from '@carecircle/fhir';
import { getSupportedSearchParameters } from '@carecircle/store';
import { getSearchParameters } from '@medplum/core';
import { subscriptionCapabilities } from '../subscriptions/subscription-capabilities';
import { operationDefinitionUrl, operationNamesOf } from './operations/operation-registry';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
  ResourceType,
} from '@medplum/fhirtypes';

const SEARCH_RESULT_PARAMETERS: CapabilityStatementRestResourceSearchParam[] = [
  { name: '_count', type: 'number', documentation: 'Page size: default 20, at most 1000' },
  { name: '_sort', type: 'string', documentation: 'Comma-separated parameters, - for descending' },
  { name: '_total', type: 'token', documentation: 'none | estimate | accurate (default accurate)' },
  { name: '_summary', type: 'token', documentation: 'true | text | data | count | false; also on read and vread (not count). Views are tagged SUBSETTED' },
  { name: '_elements', type: 'token', documentation: 'Comma-separated top-level elements of the matches (mandatory ones, id and meta always kept); also on read and vread. Tagged SUBSETTED' },
  { name: '_include', type: 'special', documentation: 'Type:param[:Target]; _include:iterate also from what was included (any source type), up to 4 levels' },
  { name: '_revinclude', type: 'special', documentation: 'Type:param[:Target]; _revinclude:iterate also back to what was included, up to 4 levels' },
];

/** `_has` on a type that resources of other types can point at (its searchRevInclude). */
const HAS_PARAMETER: CapabilityStatementRestResourceSearchParam = {
  name: '_has',
  type: 'special',
  documentation: '_has:Type:param:parameter=value (reverse chaining, nested up to 3 links), only through resources the caller may see',
};

/**
 * A search parameter's documentation with what it takes beyond its plain form: its modifiers and, for a reference,
 * the types a chain (`param.x=`, `param:Type.x=`) follows it to. The capability walk reads both.
 */
function searchParamDocumentation(p: ReturnType<typeof getSupportedSearchParameters>[number]): string {
  return [
    p.documentation,
    `Modifiers: ${p.modifiers.map((m) => `:${m}`).join(', ')}.`,
    ...(p.chainTargets ? [`Chains to: ${p.chainTargets.join(', ')} (up to 3 links, only through resources the caller may see).`] : []),
  ]
    .filter((part) => part !== undefined)
    .join(' ');
}

const INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'] as const;
/** What the interactions take beyond their plain form. */
const INTERACTION_DOCUMENTATION: Readonly<Partial<Record<(typeof INTERACTIONS)[number], string>>> = {
  update: 'Also conditional (PUT Type?criteria): one match the caller may see is updated, none creates (needs the create scope), several are 412',
  delete: 'Also conditional (DELETE Type?criteria): one match the caller may see is deleted, none is 204, several are 412',
  'history-instance': '_count, _since, _at',
  'history-type': '_count, _since, _at',
};
/** What changes a resource after its creation: never offered for append-only types (AuditEvent, Provenance). */
const CHANGES: ReadonlySet<string> = new Set(['update', 'patch', 'delete']);

/** Every operation name we serve, of any type (`summary`, `status` ...): what logs and metrics may name. */
export { KNOWN_OPERATIONS } from './operations/operation-registry';

/** The reference parameters of every type that may point at `type` (its R4 targets name it): its revincludes. */
function revIncludesOf(type: string): string[] {
  return SUPPORTED_RESOURCE_TYPES.flatMap((other) =>
    getSupportedSearchParameters(other)
      .filter((p) => p.type === 'reference' && (getSearchParameters(other)?.[p.name]?.target ?? []).includes(type as ResourceType))
      .map((p) => `${other}:${p.name}`),
  );
}

/** Builds the CapabilityStatement for this deployment. */
export function buildCapabilityStatement(config: Config, conformanceTypes: readonly string[]): CapabilityStatement {
  const resources: CapabilityStatementRestResource[] = SUPPORTED_RESOURCE_TYPES.map((type) => {
    const searchParams = getSupportedSearchParameters(type);
    const referenceParams = searchParams.filter((p) => p.type === 'reference').map((p) => `${type}:${p.name}`);
    const revIncludes = revIncludesOf(type);
    return {
      type,
      interaction: INTERACTIONS.filter((code) => !(APPEND_ONLY_RESOURCE_TYPES.has(type) && CHANGES.has(code))).map((code) => ({
        code,
        ...(INTERACTION_DOCUMENTATION[code] ? { documentation: INTERACTION_DOCUMENTATION[code] } : {}),
      })),
      ...(APPEND_ONLY_RESOURCE_TYPES.has(type)
        ? { documentation: 'Append-only: a record of what happened is created and read, never updated, patched or deleted (405).' }
        : {}),
      versioning: 'versioned',
      readHistory: true,
      // Clients do not choose ids: an update of an absent id is 404, as for a resource the caller may not see (only the
      // operator's admin token may create with an id of its choosing, for bootstrap).
      updateCreate: false,
      conditionalCreate: true,
      // If-None-Match and If-Modified-Since on read and vread (http/conditional-read.ts).
      conditionalRead: 'full-support',
      conditionalUpdate: !APPEND_ONLY_RESOURCE_TYPES.has(type),
      conditionalDelete: APPEND_ONLY_RESOURCE_TYPES.has(type) ? 'not-supported' : 'single',
      referencePolicy: ['literal', 'local'],
      searchInclude: referenceParams,
      searchRevInclude: revIncludes,
      ...(type === 'Subscription' ? subscriptionCapabilities() : {}),
      // The BALP profiles disclosure AuditEvents claim (DESIGN.md, "Audit events"), held in fhir-profiles/.
      ...(type === 'AuditEvent' ? { supportedProfile: [BALP_PATIENT_READ_PROFILE, BALP_PATIENT_QUERY_PROFILE, BALP_OAUTH_TOKEN_PROFILE] } : {}),
      ...(operationNamesOf(type).length > 0
        ? { operation: operationNamesOf(type).map((name) => ({ name, definition: operationDefinitionUrl(type, name) })) }
        : {}),
      searchParam: [
        ...searchParams.map((p) => ({ name: p.name, definition: p.definition, type: p.type, documentation: searchParamDocumentation(p) })),
        ...SEARCH_RESULT_PARAMETERS,
        ...(revIncludes.length > 0 ? [HAS_PARAMETER] : []),
      ],
    };
  });
  const conformance: CapabilityStatementRestResource[] = conformanceTypes.map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    interaction: [{ code: 'read' }, { code: 'search-type' }],
    searchParam: [
      { name: 'url', type: 'uri' },
      { name: '_id', type: 'token' },
    ],
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    name: 'CareCircle',
    title: 'CareCircle FHIR API',
    publisher: 'CareCircle',
    software: { name: 'CareCircle', version: '0.1.0' },
    implementation: { description: 'CareCircle care coordination', url: config.fhirBaseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Subscriptions follow the Subscriptions R5 Backport IG on R4: topics at /SubscriptionTopic (Basic resources in the ' +
          'Backport representation), rest-hook channel, signed notifications (X-CareCircle-Signature).',
        security: {
          cors: config.corsOrigins.length > 0,
          service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
          extension: [
            {
              url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
              extension: [
                { url: 'token', valueUri: `${config.baseUrl}/oauth2/token` },
                { url: 'authorize', valueUri: `${config.baseUrl}/oauth2/authorize` },
                { url: 'revoke', valueUri: `${config.baseUrl}/oauth2/revoke` },
              ],
            },
          ],
          description: 'SMART on FHIR: backend services (private_key_jwt) and authorization code with PKCE. Every request but this statement, the SMART configuration and the subscription topics needs a bearer token. ' +
            'Security labels (meta.security): confidentiality (v3-Confidentiality R, V) and sensitivity (v3-ActCode SDV, PSY, SEX, PSYTHPN) on every ' +
            'resource of a client; what a partner is shown under consent also carries the DS4P refrain v3-ActCode NORDSCLCD (no redisclosure without consent directive).',
        },
        resource: [...resources, ...conformance],
        interaction: [
          { code: 'transaction', documentation: 'Prefer: return=minimal | representation | OperationOutcome applies to its write entries' },
          { code: 'batch', documentation: 'Prefer: return=minimal | representation | OperationOutcome applies to its write entries' },
          { code: 'history-system', documentation: '_count, _since, _at' },
        ],
      },
    ],
  };
}
