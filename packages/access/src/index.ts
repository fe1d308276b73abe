/**
 * @carecircle/access: the one place where a caller's access is composed, for the API and the worker alike.
 */
export {
  accessSettingsFrom,
  callerPolicy,
  createCallerRepository,
  createRecipientView,
  createServerRepository,
  recipientOf,
  resolveCallerRecipient,
  writeRulesFor,
  type AccessSettings,
} from './caller-repository';
export { createConsentDeliveryGate } from './consent-delivery-gate';
