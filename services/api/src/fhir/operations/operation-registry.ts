/**
 * Every FHIR operation this server implements, in one registry: its resource type, name, level (`GET Type/$name` or
 * `GET Type/{id}/$name`), the parameters it defines and its handler. The FHIR route table (fhir-routes.ts) dispatches
 * to it, the CapabilityStatement lists it, and logs and metrics name only the operations in it. A handler gets its
 * arguments already read against its parameters, and capabilities (the caller's repository ...), never the database.
 */
import { SUBSCRIPTION_EVENTS, SUBSCRIPTION_STATUS, SUBSCRIPTION_STATUSES } from '../../subscriptions/subscription-operations';
import { COMPOSITION_APPROVE, COMPOSITION_DECLINE, COMPOSITION_SUBMIT, COMPOSITION_WITHDRAW } from './coordinated-update-operations';
import { PATIENT_DISCLOSURE_CHECK } from './disclosure-check';
import type { FhirOperation, InstanceOperation, TypeOperation } from './operation-definition';
import { PATIENT_SUMMARY } from './patient-summary';
import { TASK_REFERRAL_METRICS } from './referral-metrics';

export type { OperationContext, SubscriptionEventLog } from './operation-context';
export type { FhirOperation, InstanceOperation, TypeOperation } from './operation-definition';

/** The registry, in the order the CapabilityStatement lists each type's operations. */
export const FHIR_OPERATIONS: readonly FhirOperation[] = [
  PATIENT_SUMMARY,
  PATIENT_DISCLOSURE_CHECK,
  SUBSCRIPTION_STATUSES,
  SUBSCRIPTION_STATUS,
  SUBSCRIPTION_EVENTS,
  TASK_REFERRAL_METRICS,
  COMPOSITION_SUBMIT,
  COMPOSITION_WITHDRAW,
  COMPOSITION_APPROVE,
  COMPOSITION_DECLINE,
];

/** The type-level operations (each gets its own route: `GET Subscription/$status`). */
export const TYPE_OPERATIONS: readonly TypeOperation[] = FHIR_OPERATIONS.filter((o): o is TypeOperation => o.level === 'type');

/** The instance operation `$name` of `resourceType`, if there is one. */
export function findInstanceOperation(resourceType: string, name: string): InstanceOperation | undefined {
  return FHIR_OPERATIONS.find((o): o is InstanceOperation => o.level === 'instance' && o.resourceType === resourceType && o.name === name);
}

/** The names of `resourceType`'s operations, each once (whatever its levels). */
export function operationNamesOf(resourceType: string): string[] {
  return [...new Set(FHIR_OPERATIONS.filter((o) => o.resourceType === resourceType).map((o) => o.name))];
}

/** Every operation name we serve, of any type (`summary`, `status` ...). */
export const KNOWN_OPERATIONS: ReadonlySet<string> = new Set(FHIR_OPERATIONS.map((o) => o.name));

/** Canonical URL of one of our operations, for the CapabilityStatement. */
export function operationDefinitionUrl(resourceType: string, name: string): string {
  return `https://carecircle.dev/fhir/OperationDefinition/${resourceType}-${name}`;
}
