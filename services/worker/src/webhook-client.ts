/**
 * One signed POST of a notification to a subscriber's rest-hook endpoint, with the delivery rules of the contract:
 * only a 2xx is success, redirects are not followed, a timeout bounds every attempt, at most `maxResponseBytes` of the
 * answer are read (and then discarded: we never need it), 410 means "gone", and 429/503 may say when to retry.
 */
import { EVENT_ID_HEADER, parseRetryAfter, SIGNATURE_HEADER, signNotification } from '@carecircle/notify';

export interface WebhookRequest {
  endpoint: URL;
  /** The subscription's own channel headers, sent as given. */
  headers: readonly [string, string][];
  secret: string;
  body: string;
  /** Stable across retries of one event; fresh for handshakes and heartbeats. */
  eventId: string;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Aborted when the worker shuts down hard. */
  signal?: AbortSignal;
}

export type WebhookResult =
  | { kind: 'success'; status: number }
  | { kind: 'gone'; status: 410 }
  | { kind: 'failure'; status: number | undefined; retryAfterMs: number | undefined; reason: string };

/** Posts the notification once; never throws for anything the receiver or the network does. */
export async function postNotification(request: WebhookRequest): Promise<WebhookResult> {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = new Headers();
  for (const [name, value] of request.headers) {
    headers.append(name, value);
  }
  headers.set('Content-Type', 'application/fhir+json');
  headers.set('Accept', 'application/fhir+json, application/json;q=0.9, */*;q=0.1');
  headers.set(SIGNATURE_HEADER, signNotification(request.secret, request.body, timestamp));
  headers.set(EVENT_ID_HEADER, request.eventId);
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  let response: Response;
  try {
    response = await fetch(request.endpoint, { method: 'POST', headers, body: request.body, redirect: 'manual', signal });
  } catch (err) {
    const reason = timeout.aborted ? 'timeout' : ((err as Error).cause as { code?: string } | undefined)?.code ?? 'network error';
    return { kind: 'failure', status: undefined, retryAfterMs: undefined, reason };
  }
  const drained = await drainResponse(response, request.maxResponseBytes, timeout.aborted);
  if (response.status >= 200 && response.status < 300) {
    return drained ? { kind: 'success', status: response.status } : { kind: 'failure', status: response.status, retryAfterMs: undefined, reason: 'timeout' };
  }
  if (response.status === 410) {
    return { kind: 'gone', status: 410 };
  }
  const retryAfterMs =
    response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
  const reason = response.status >= 300 && response.status < 400 ? 'redirect not followed' : `status ${response.status}`;
  return { kind: 'failure', status: response.status, retryAfterMs, reason };
}

/**
 * Reads and discards the response body, up to `maxBytes` (a larger body is cut off, not an error: the status already
 * decided). False when the body did not finish before the timeout.
 */
async function drainResponse(response: Response, maxBytes: number, timedOut: boolean): Promise<boolean> {
  if (!response.body || timedOut) {
    return !timedOut;
  }
  const reader = response.body.getReader();
  let read = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return true;
      }
      read += value.byteLength;
      if (read > maxBytes) {
        await reader.cancel();
        return true;
      }
    }
  } catch {
    return false;
  }
}
