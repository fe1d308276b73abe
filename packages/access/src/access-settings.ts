/**
 * The settings access takes from the configuration: what the write pipeline's Subscription rule allows, and the key
 * that signs `_page` tokens.
 */
import type { Config } from '@carecircle/config';

export interface AccessSettings {
  /** Allow http:// subscription endpoints on loopback (development only). */
  allowLoopbackHttp: boolean;
  /** The key that signs `_page` tokens, shared by every replica (absent: one of this process, for tests). */
  pageTokenKey?: Uint8Array;
}

/** The access settings of a configuration. */
export function accessSettingsFrom(config: Pick<Config, 'notify' | 'pageTokenKey'>): AccessSettings {
  return { allowLoopbackHttp: config.notify.allowLoopbackHttp, pageTokenKey: config.pageTokenKey };
}
