/**
 * The shape of the disclosure and denial AuditEvents (DESIGN.md, "Audit events"): the IHE Basic Audit Log Patterns
 * (BALP, https://profiles.ihe.net/ITI/BALP/) for a RESTful read or query with a patient, plus what BALP leaves out and
 * an accounting of disclosures needs: which Consent version, and which of its provisions, permitted each disclosed
 * resource (extension {@link PERMITTED_BY_URL} on the resource's entity), and how many refusals a denial folds
 * ({@link DENIED_COUNT_URL}).
 *
 * Pure: the recorder (disclosure-audit.ts) decides when events are written and gathers what they say; this file only
 * builds them. An event claims a BALP profile in `meta.profile` only when it meets it: a disclosure (outcome 0) by
 * read or vread claims `IHE.BasicAudit.PatientRead`, by a GET search (whose query it records)
 * `IHE.BasicAudit.PatientQuery`, each when the client's
 * network address is known (BALP requires it of the client agent), and, with the OAuth token's id on the user agent
 * (`policy`), `IHE.BasicAudit.OAUTHaccessTokenUse.Minimal` too and the caller is an OAuth client (not the operator's admin token); history,
 * `$summary` and denials take the same shape
 * without a claim (BALP's RESTful profiles fix outcome 0, and it has none for history or operations).
 */
import { OAUTH_CLIENT_SYSTEM, OPERATOR_SYSTEM } from '@carecircle/fhir';
import type { Interaction } from '@carecircle/store';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Extension, Reference, Resource } from '@medplum/fhirtypes';
import { PURPOSE_OF_USE_SYSTEM, type Recipient } from './consent-decision';
import { ACT_CODE_SYSTEM, CATEGORY_OF_SENSITIVITY, SHARE_CATEGORY_SYSTEM } from './share-category';

const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const DICOM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION_TYPE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const NETWORK_TYPE_IP = '2';
const NETWORK_TYPE_URI = '5';

/** Canonical base of the IHE BALP guide, whose profiles fhir-profiles/ holds (as we can check them). */
export const BALP_CANONICAL_BASE = 'https://profiles.ihe.net/ITI/BALP';
export const BALP_PATIENT_READ_PROFILE = `${BALP_CANONICAL_BASE}/StructureDefinition/IHE.BasicAudit.PatientRead`;
export const BALP_PATIENT_QUERY_PROFILE = `${BALP_CANONICAL_BASE}/StructureDefinition/IHE.BasicAudit.PatientQuery`;
/** BALP's pattern for an activity authorized by an OAuth access token: the token's id (jti) on the user agent. */
export const BALP_OAUTH_TOKEN_PROFILE = `${BALP_CANONICAL_BASE}/StructureDefinition/IHE.BasicAudit.OAUTHaccessTokenUse.Minimal`;
/** BALP's user agent types: `UserOauthAgent` marks the agent whose `policy` is the OAuth token's id. */
const USER_AGENT_TYPES = `${BALP_CANONICAL_BASE}/CodeSystem/UserAgentTypes`;
/** ISO 21089 record lifecycle: `disclose`, the subtype BALP's privacy disclosure patterns require. */
const LIFECYCLE = 'http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle';

/**
 * Extension (valueInteger) on a denial AuditEvent, the total of refused interactions it records, and on each refused
 * resource's entity, how many of them were refused that resource. FHIR R4's AuditEvent has no count element.
 */
export const DENIED_COUNT_URL = 'https://carecircle.dev/fhir/StructureDefinition/denied-count';

/**
 * Extension on a disclosed resource's entity, once per consent and category that permitted it: sub-extensions
 * `consent` (valueReference, version-specific: `Consent/{id}/_history/{version}`), `provision` (valueString, the
 * FHIRPath of the provision within that version, `Consent.provision`: a sharing Consent has no nested provisions) and
 * `category` (valueCode, the share category that provision granted: the resource's own, or one its sensitivity labels
 * call for).
 */
export const PERMITTED_BY_URL = 'https://carecircle.dev/fhir/StructureDefinition/permitted-by';

/** The FHIRPath of the one provision a sharing Consent decides by (the profile prohibits nested provisions). */
export const DECIDING_PROVISION_PATH = 'Consent.provision';

/** What an audited interaction is called in `AuditEvent.subtype` (restful-interaction codes). */
export type AuditedInteraction = Interaction | 'operation';

/** A row of the consent-grant index that permitted something: this consent version granted `category` of `patient`. */
export interface PermittingGrant {
  /** `Patient/{id}` */
  patient: string;
  category: string;
  consentId: string;
  consentVersion: number;
}

/** Who asked and through what, as the events name them. */
export interface AuditedParty {
  /** The recipient; undefined for the operator (admin token), who is named as such. */
  recipient: Recipient | undefined;
  /** The OAuth client the recipient called through (none for the operator). */
  clientId: string | undefined;
  /** v3-ActReason code. */
  purpose: string;
  requestId: string;
  /** The network address the request came from, when it came over HTTP. */
  clientAddress?: string | undefined;
  /** The FHIR base URL the request was made to. */
  serverBase?: string | undefined;
  /** The id (jti) of the OAuth access token the request carried: which authorization the disclosure was made under. */
  tokenId?: string | undefined;
}

/** One client's disclosures in one interaction. */
export interface DisclosureFacts {
  interaction: AuditedInteraction;
  /** `Patient/{id}` */
  patient: string;
  resources: readonly Resource[];
  /** The search as the server read it (`Observation?code=...`), for a search. */
  query?: string | undefined;
  /** Grants of this client's consents in force for the recipient and purpose (any category). */
  grants: readonly PermittingGrant[];
  recorded: Date;
}

/** One client's refusals of one interaction kind: how many times each resource (`Type/id`) was refused. */
export interface DenialFacts {
  interaction: AuditedInteraction;
  patient: string;
  times: ReadonlyMap<string, number>;
  recorded: Date;
}

/** The AuditEvent of what one client's information disclosed in one interaction. */
export function disclosureAuditEvent(party: AuditedParty, facts: DisclosureFacts): AuditEvent {
  const seen = new Set<string>();
  const data = facts.resources.flatMap((resource) => {
    const reference = versionedReference(resource);
    if (seen.has(reference)) {
      return [];
    }
    seen.add(reference);
    const permittedBy = permittedByExtensions(resource, facts.patient, facts.grants);
    return [{ ...dataEntity(reference, facts.interaction), ...(permittedBy.length > 0 && { extension: permittedBy }) }];
  });
  const event = baseEvent(party, facts.interaction, facts.patient, data, facts.recorded, 'disclosed', facts.query);
  const profiles = [
    claimedProfile(party, facts.interaction, data.length, facts.query !== undefined),
    party.tokenId && party.recipient ? BALP_OAUTH_TOKEN_PROFILE : undefined,
  ].filter((url): url is string => url !== undefined);
  return profiles.length > 0 ? { ...event, meta: { profile: profiles } } : event;
}

/** The AuditEvent of a client's folded refusals: each refused resource once, with its count, and the total. */
export function denialAuditEvent(party: AuditedParty, facts: DenialFacts): AuditEvent {
  const data = [...facts.times].map(([reference, times]) => ({
    ...dataEntity(reference, facts.interaction),
    extension: [{ url: DENIED_COUNT_URL, valueInteger: times }],
  }));
  const total = [...facts.times.values()].reduce((sum, n) => sum + n, 0);
  return {
    ...baseEvent(party, facts.interaction, facts.patient, data, facts.recorded, 'denied', undefined),
    extension: [{ url: DENIED_COUNT_URL, valueInteger: total }],
  };
}

/** The BALP profile a disclosure event meets, if any. */
function claimedProfile(party: AuditedParty, interaction: AuditedInteraction, dataEntities: number, withQuery: boolean): string | undefined {
  if (!party.clientId || !party.clientAddress || !party.serverBase) {
    return undefined; // BALP's client agent: the OAuth client (the operator's admin token is none), with its address.
  }
  if ((interaction === 'read' || interaction === 'vread') && dataEntities === 1) {
    return BALP_PATIENT_READ_PROFILE;
  }
  // A search the request did not spell out itself (a conditional create's, a batch entry's) has no query to record.
  return interaction === 'search' && withQuery ? BALP_PATIENT_QUERY_PROFILE : undefined;
}

function baseEvent(
  party: AuditedParty,
  interaction: AuditedInteraction,
  patient: string,
  data: AuditEventEntity[],
  recorded: Date,
  result: 'disclosed' | 'denied',
  query: string | undefined,
): AuditEvent {
  const subtype: Coding[] = [{ system: RESTFUL_INTERACTION, code: interaction === 'search' ? 'search-type' : interaction }];
  if (result === 'disclosed' && party.recipient) {
    subtype.push({ system: LIFECYCLE, code: 'disclose', display: 'Disclose Record Lifecycle Event' });
  }
  const entities: AuditEventEntity[] = [
    { what: { reference: patient }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } },
    ...data,
  ];
  if (interaction === 'search' && query !== undefined) {
    entities.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(query, 'utf8').toString('base64'),
    });
  }
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_EVENT_TYPE, code: 'rest', display: 'Restful Operation' },
    subtype,
    action: interaction === 'search' || interaction === 'operation' ? 'E' : 'R',
    recorded: recorded.toISOString(),
    outcome: result === 'disclosed' ? '0' : '4',
    outcomeDesc:
      result === 'denied'
        ? 'Denied: no consent permits it'
        : party.recipient
          ? 'Disclosed under consent'
          : 'Disclosed to the operator (admin token)',
    purposeOfEvent: [{ coding: [{ system: PURPOSE_OF_USE_SYSTEM, code: party.purpose }] }],
    agent: agentsOf(party, interaction),
    source: {
      observer: { display: 'CareCircle API' },
      site: party.requestId,
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: entities,
  };
}

/**
 * BALP's agents: the user (`IRCP`, requestor: the practitioner, else the organization's system as its organization),
 * the rest of the recipient (its organization as healthcare provider, its roles), the client application (the OAuth
 * client, with its network address; the operator's admin token names no client) and the server. The request id stays
 * in `source.site` (BALP's optional transaction entity would repeat it). BALP names the client Source Role ID for a query (the request
 * flows to the server) and Destination Role ID for a read (the data flows to it), the server the other way round.
 */
function agentsOf(party: AuditedParty, interaction: AuditedInteraction): AuditEventAgent[] {
  const query = interaction === 'search';
  const clientRole = dicom(query ? '110153' : '110152', query ? 'Source Role ID' : 'Destination Role ID');
  const serverRole = dicom(query ? '110152' : '110153', query ? 'Destination Role ID' : 'Source Role ID');
  const purposeOfUse = [{ coding: [{ system: PURPOSE_OF_USE_SYSTEM, code: party.purpose }] }];
  const agents: AuditEventAgent[] = [];
  const recipient = party.recipient;
  if (!recipient) {
    agents.push({
      type: { coding: [{ system: PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' }] },
      who: { identifier: { system: OPERATOR_SYSTEM, value: 'admin' }, display: 'Operator (admin token)' },
      requestor: true,
      purposeOfUse,
    });
  } else {
    const user = recipient.practitioner ?? recipient.organization ?? recipient.practitionerRole;
    if (user) {
      // The token's id marks the user agent as BALP's OAuth user (OAUTHaccessTokenUse): the authorization it acted under.
      const oauth = party.tokenId ? [{ system: USER_AGENT_TYPES, code: 'UserOauthAgent', display: 'User OAuth Agent participant' }] : [];
      agents.push({
        type: { coding: [{ system: PARTICIPATION_TYPE, code: 'IRCP', display: 'information recipient' }, ...oauth] },
        who: { reference: user },
        requestor: true,
        ...(party.tokenId && { policy: [party.tokenId] }),
        purposeOfUse,
      });
    }
    if (recipient.organization && recipient.organization !== user) {
      agents.push({ type: { coding: [{ system: ROLE_CLASS, code: 'PROV', display: 'healthcare provider' }] }, who: { reference: recipient.organization }, requestor: true });
    }
    const roles = [...new Set([recipient.practitionerRole, ...(recipient.practitionerRoles ?? [])])].filter(
      (role): role is string => role !== undefined && role !== user,
    );
    for (const role of roles) {
      agents.push({ type: { coding: [{ system: ROLE_CLASS, code: 'AGNT', display: 'agent' }] }, who: { reference: role }, requestor: true });
    }
  }
  if (!party.clientId) {
    return agents; // The operator's admin token: no client application, and no claim of BALP's shape to complete.
  }
  agents.push({
    type: { coding: [clientRole] },
    who: { identifier: { system: OAUTH_CLIENT_SYSTEM, value: party.clientId } },
    requestor: false,
    ...(party.clientAddress && { network: { address: party.clientAddress, type: NETWORK_TYPE_IP } }),
  });
  agents.push({
    type: { coding: [serverRole] },
    who: { display: 'CareCircle API' },
    requestor: false,
    ...(party.serverBase && { network: { address: party.serverBase, type: NETWORK_TYPE_URI } }),
  });
  return agents;
}

function dicom(code: string, display: string): Coding {
  return { system: DICOM, code, display };
}

/**
 * A disclosed or refused resource. In a read BALP's `data` entity (System Object, Domain Resource); in a query, where
 * BALP records the query as the System Object, each resource is typed by its resource type instead, as BALP's privacy
 * disclosure examples do.
 */
function dataEntity(reference: string, interaction: AuditedInteraction): AuditEventEntity {
  const resourceType = reference.split('/')[0] ?? '';
  const type =
    interaction === 'search'
      ? { system: 'http://hl7.org/fhir/resource-types', code: resourceType }
      : { system: ENTITY_TYPE, code: '2', display: 'System Object' };
  return { what: { reference } satisfies Reference, type, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } };
}

function versionedReference(resource: Resource): string {
  const version = resource.meta?.versionId;
  return `${resource.resourceType}/${resource.id}${version ? `/_history/${version}` : ''}`;
}

const LABEL_CATEGORY: Readonly<Record<string, string>> = CATEGORY_OF_SENSITIVITY;

/**
 * The consents that permitted `resource` for `patient`: for each category the resource calls for (its share category
 * and the category behind each sensitivity label), every consent version granting it. The Patient resource is
 * disclosed under any consent in force naming the recipient: each such version, with the categories it grants.
 */
function permittedByExtensions(resource: Resource, patient: string, grants: readonly PermittingGrant[]): Extension[] {
  const own = grants.filter((g) => g.patient === patient);
  const required =
    resource.resourceType === 'Patient'
      ? undefined
      : new Set([
          ...(resource.meta?.tag ?? []).filter((t) => t.system === SHARE_CATEGORY_SYSTEM && t.code).map((t) => t.code as string),
          ...(resource.meta?.security ?? [])
            .filter((s) => s.system === ACT_CODE_SYSTEM && s.code && LABEL_CATEGORY[s.code])
            .map((s) => LABEL_CATEGORY[s.code as string] as string),
        ]);
  if (required === undefined) {
    // Any consent in force naming the recipient discloses the Patient resource: each version once, whatever it grants.
    const versions = [...new Map(own.map((g) => [`Consent/${g.consentId}/_history/${g.consentVersion}`, g])).keys()];
    return versions.map((reference) => permittedBy(reference, undefined));
  }
  return own.filter((g) => required.has(g.category)).map((g) => permittedBy(`Consent/${g.consentId}/_history/${g.consentVersion}`, g.category));
}

function permittedBy(consent: string, category: string | undefined): Extension {
  return {
    url: PERMITTED_BY_URL,
    extension: [
      { url: 'consent', valueReference: { reference: consent } },
      { url: 'provision', valueString: DECIDING_PROVISION_PATH },
      ...(category ? [{ url: 'category', valueCode: category }] : []),
    ],
  };
}
