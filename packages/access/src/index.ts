/**
 * @carecircle/access: the one place where a caller's access is composed, for the API and the worker alike.
 */
export { accessSettingsFrom, type AccessSettings } from './access-settings';
export {
  callerPolicy,
  createCallerRepository,
  createRecipientView,
  createRecordsRepository,
  createServerRepository,
  recipientOf,
  resolveCallerRecipient,
} from './caller-repository';
export { authorizeWrite, serverWritePipelineFor, writePipelineFor } from './write-pipeline';
export { createConsentDeliveryGate } from './consent-delivery-gate';
