/**
 * The notification signature (contract): `X-CareCircle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
 * "<t>.<raw body>")>`. Binding the timestamp lets receivers reject replays outside their tolerance window.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-CareCircle-Signature';
export const EVENT_ID_HEADER = 'X-CareCircle-Event-Id';

/** The signature header value for `body` sent at `timestampSeconds`. */
export function signNotification(secret: string, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

/**
 * What a receiver does: true when `header` signs `body` with `secret` and its timestamp is within `toleranceSeconds`
 * of `nowSeconds`. Constant-time comparison.
 */
export function verifyNotificationSignature(
  secret: string,
  body: string,
  header: string | undefined,
  nowSeconds: number = Math.floor(Date.now() / 1000),
  toleranceSeconds = 300,
): boolean {
  const match = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) {
    return false;
  }
  const t = Number(match[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) {
    return false;
  }
  const expected = Buffer.from(signNotification(secret, body, t).slice(-64), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2] ?? '', 'hex'));
}
