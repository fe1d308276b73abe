/**
 * @carecircle/demo: the demo care network and the tools for acting as its members (`npm run demo`, `npm run token`,
 * `npm run receiver`). It reaches the server only through its public HTTP API; the receiver checks signatures with the
 * contract's reference implementation in @carecircle/notify.
 */
export { buildCareNetwork } from './build-network';
export { APP_REDIRECT_URI, CLIENTS, DEMO_SYSTEM, PARTNER_SYSTEMS, PEOPLE, type PartnerSystem, type Person } from './care-network';
export { readDemoState, type DemoState } from './demo-state';
export { partnerSystemToken, personToken, type TokenResponse } from './sign-in';
export { loadToolConfig, type ToolConfig } from './tool-config';
