/**
 * Signed POSTs of notifications to subscribers' rest-hook endpoints, with the delivery rules of the contract: only a
 * 2xx is success, redirects are not followed, a timeout bounds every attempt, at most `maxResponseBytes` of the answer
 * are read (and then discarded: we never need it), 410 means "gone", and 429/503 may say when to retry.
 *
 * And where it may connect (server-side request forgery, see @carecircle/net): an IP-literal host is checked before
 * anything is sent; a name is resolved by the checked lookup, which checks EVERY address the name resolves to and
 * hands the socket only checked addresses, so the connection goes where the check looked (a name that resolves to a
 * public address for the check and to 127.0.0.1 for the connection gains nothing). Built on node:http / node:https for
 * that lookup hook; one keep-alive agent per scheme, closed with the client.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { bareHost, checkedLookup, classifyAddress, FORBIDDEN_ADDRESS, isAllowedKind, type AddressRules, type Resolver } from '@carecircle/net';
import { EVENT_ID_HEADER, parseRetryAfter, SIGNATURE_HEADER, signNotification } from '@carecircle/notify';

export type { Resolver } from '@carecircle/net';

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

export interface WebhookClient {
  /** Posts the notification once; never throws for anything the receiver, the network or the resolver does. */
  post(request: WebhookRequest): Promise<WebhookResult>;
  /** Closes pooled connections. */
  close(): void;
}

/** A client that connects only to addresses `rules` allow, resolving names with `resolve` (the system resolver by default). */
export function createWebhookClient(rules: AddressRules, resolve?: Resolver): WebhookClient {
  const lookup = checkedLookup(rules, resolve);
  const agents = {
    http: new HttpAgent({ keepAlive: true, lookup }),
    https: new HttpsAgent({ keepAlive: true, lookup }),
  };
  return {
    post: (request) => post(request, rules, lookup, agents),
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

async function post(
  request: WebhookRequest,
  rules: AddressRules,
  lookup: LookupFunction,
  agents: { http: HttpAgent; https: HttpsAgent },
): Promise<WebhookResult> {
  const { endpoint } = request;
  const host = bareHost(endpoint.hostname);
  // An IP literal never reaches the lookup: check it here.
  const literal = classifyAddress(host);
  if (literal !== undefined && !isAllowedKind(literal, rules)) {
    return { kind: 'failure', status: undefined, retryAfterMs: undefined, reason: 'forbidden address' };
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
    return { kind: 'failure', status: undefined, retryAfterMs: undefined, reason: 'unsupported scheme' };
  }
  const timestamp = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  Object.assign(headers, {
    'content-type': 'application/fhir+json',
    'content-length': String(Buffer.byteLength(request.body)),
    accept: 'application/fhir+json, application/json;q=0.9, */*;q=0.1',
    [SIGNATURE_HEADER.toLowerCase()]: signNotification(request.secret, request.body, timestamp),
    [EVENT_ID_HEADER.toLowerCase()]: request.eventId,
  });
  const timeout = AbortSignal.timeout(request.timeoutMs);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;
  const https = endpoint.protocol === 'https:';
  const options = {
    hostname: host,
    port: endpoint.port === '' ? undefined : Number(endpoint.port),
    path: `${endpoint.pathname}${endpoint.search}`,
    method: 'POST',
    headers,
    agent: https ? agents.https : agents.http,
    lookup,
    signal,
  };
  return new Promise<WebhookResult>((resolve) => {
    let settled = false;
    const settle = (result: WebhookResult) => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    const failure = (reason: string, status?: number): WebhookResult => ({ kind: 'failure', status, retryAfterMs: undefined, reason });
    let req: ReturnType<typeof httpRequest>;
    try {
      req = (https ? httpsRequest : httpRequest)(options, (response) => {
        readAnswer(response, request.maxResponseBytes, (complete) => {
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            settle(complete ? { kind: 'success', status } : failure('timeout', status));
            return;
          }
          settle(answerOf(response, status));
        });
      });
    } catch {
      // Node refuses the request before sending anything (a header value it will not put on the wire, say): a
      // failed attempt like any other, never a thrown job that leaves the subscription waiting.
      settle(failure('invalid request'));
      return;
    }
    req.on('error', (err: Error & { code?: string }) => {
      if (timeout.aborted) {
        settle(failure('timeout'));
      } else if (err.code === FORBIDDEN_ADDRESS) {
        settle(failure('forbidden address'));
      } else {
        settle(failure(err.code ?? 'network error'));
      }
    });
    req.end(request.body);
  });
}

/**
 * Reads and discards the answer's body, up to `maxBytes` (a larger body is cut off, not an error: the status already
 * decided); `done(false)` when it did not finish (timeout, connection lost).
 */
function readAnswer(response: IncomingMessage, maxBytes: number, done: (complete: boolean) => void): void {
  let read = 0;
  let finished = false;
  const finish = (complete: boolean) => {
    if (!finished) {
      finished = true;
      done(complete);
    }
  };
  response.on('data', (chunk: Buffer) => {
    read += chunk.byteLength;
    if (read > maxBytes) {
      response.destroy();
      finish(true);
    }
  });
  response.on('end', () => finish(true));
  response.on('error', () => finish(false));
  response.on('close', () => finish(response.complete));
}

function answerOf(response: IncomingMessage, status: number): WebhookResult {
  if (status === 410) {
    return { kind: 'gone', status: 410 };
  }
  const retryAfter = response.headers['retry-after'];
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(typeof retryAfter === 'string' ? retryAfter : null) : undefined;
  const reason = status >= 300 && status < 400 ? 'redirect not followed' : `status ${status}`;
  return { kind: 'failure', status, retryAfterMs, reason };
}
