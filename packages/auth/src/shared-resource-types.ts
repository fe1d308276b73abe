/**
 * The directory and conformance types, outside every patient compartment: every caller whose scopes allow reads them
 * (contract: "who may see what"). Defined here, below the policies that share it: the callers' own (access's
 * caller-access-policy.ts) and the recipients' (consent's consent-policy.ts).
 */

/** Types outside every patient compartment: readable by any authenticated caller whose scopes allow. */
export const SHARED_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'Organization',
  'OrganizationAffiliation',
  'Practitioner',
  'PractitionerRole',
  'Endpoint',
  'Location',
  'HealthcareService',
  'CapabilityStatement',
  'StructureDefinition',
  'CodeSystem',
  'ValueSet',
  'SearchParameter',
  'SubscriptionTopic',
  'OperationDefinition',
  'CompartmentDefinition',
  'ImplementationGuide',
]);
