/**
 * HTTP request metrics: a counter and a latency histogram per request, labelled with what the request was (method,
 * FHIR interaction, resource type, operation) and its status. Labels come from a fixed vocabulary: a resource type
 * or operation we do not serve is `unknown`, a path outside our routes is `other`, and no id, query or body value
 * ever becomes a label, so the number of series stays bounded whatever clients send (and no PHI reaches Prometheus).
 */
import { CONFORMANCE_RESOURCE_TYPES, SUPPORTED_RESOURCE_TYPES } from '@carecircle/fhir';
import { METRIC_PREFIX } from '@carecircle/process';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, type Registry } from 'prom-client';
import { KNOWN_OPERATIONS } from '../fhir/capability-statement';

/** Resource types served under /fhir/R4: the only values `resource_type` takes besides `unknown` and ''. */
const KNOWN_TYPES: ReadonlySet<string> = new Set<string>([...SUPPORTED_RESOURCE_TYPES, ...CONFORMANCE_RESOURCE_TYPES, 'SubscriptionTopic']);

const KNOWN_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** Seconds: a read takes milliseconds, a large transaction or an audited search seconds; 30 s is the request timeout. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What a request was, as metric labels. */
export interface RequestLabels {
  /** GET, POST ... or `other`. */
  method: string;
  /**
   * The FHIR RESTful interaction (`read`, `vread`, `update`, `patch`, `delete`, `history-instance`, `history-type`,
   * `history-system`, `create`, `search-type`, `search-system`, `capabilities`, `batch`, `transaction`, `operation`),
   * or the route outside the FHIR API (`oauth2-authorize`, `oauth2-token`, `oauth2-revoke`, `admin`, `healthz`,
   * `readyz`, `discovery`, `metrics`), else `other`.
   */
  interaction: string;
  /** The resource type the interaction is about, `unknown` for one we do not serve, '' for none. */
  resource_type: string;
  /** `$name` of an operation we serve, `unknown` for another, '' when the request is no operation. */
  operation: string;
}

const LABEL_NAMES = ['method', 'interaction', 'resource_type', 'operation', 'status'] as const;

/**
 * Registers `carecircle_http_requests_total` and `carecircle_http_request_duration_seconds` on `registry` (or finds
 * them there) and returns
 * the middleware that records every request into them when its response finishes.
 */
export function httpMetrics(registry: Registry) {
  // Registered once per registry: a second app over the same services (tests build one with Redis away, or a clock
  // moved) counts into the same metrics instead of failing to register them again.
  const requestsName = `${METRIC_PREFIX}http_requests_total`;
  const durationName = `${METRIC_PREFIX}http_request_duration_seconds`;
  const requests =
    (registry.getSingleMetric(requestsName) as Counter<(typeof LABEL_NAMES)[number]> | undefined) ??
    new Counter({
      name: requestsName,
      help: 'HTTP requests answered, by method, FHIR interaction, resource type, operation and status.',
      labelNames: LABEL_NAMES,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric(durationName) as Histogram<(typeof LABEL_NAMES)[number]> | undefined) ??
    new Histogram({
      name: durationName,
      help: 'Seconds from receiving an HTTP request to finishing its response, by the same labels.',
      labelNames: LABEL_NAMES,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  return function recordRequestMetrics(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const labels = { ...classifyRequest(req.method, req.originalUrl, req.body), status: String(res.statusCode) };
      requests.inc(labels);
      duration.observe(labels, seconds);
    });
    next();
  };
}

/**
 * Names a request by its method and path alone (the query is ignored), for metric labels; `body` only tells a batch
 * from a transaction. Ids are never kept: `GET /fhir/R4/Patient/123` is `read` of `Patient`.
 * @param method - the HTTP method.
 * @param url - the request's URL path, with or without its query.
 * @param body - the parsed body, if any.
 */
export function classifyRequest(method: string, url: string, body?: unknown): RequestLabels {
  const verb = method === 'HEAD' ? 'GET' : method;
  const labels = (interaction: string, resourceType = '', operation = ''): RequestLabels => ({
    method: KNOWN_METHODS.has(method) ? method : 'other',
    interaction,
    resource_type: resourceType,
    operation,
  });
  const segments = (url.split('?')[0] ?? '').split('/').filter((segment) => segment !== '');
  if (segments[0] === 'fhir' && segments[1] === 'R4') {
    return classifyFhir(verb, segments.slice(2), body, labels);
  }
  switch (segments[0]) {
    case 'oauth2':
      return labels(segments[1] === 'authorize' || segments[1] === 'token' || segments[1] === 'revoke' ? `oauth2-${segments[1]}` : 'other');
    case 'admin':
    case 'healthz':
    case 'readyz':
    case 'metrics':
      return labels(segments[0]);
    case '.well-known':
      return labels('discovery');
    default:
      return labels('other');
  }
}

type LabelMaker = (interaction: string, resourceType?: string, operation?: string) => RequestLabels;

/** The FHIR interaction of a request under /fhir/R4, from the shape of the path after the base. */
function classifyFhir(verb: string, path: string[], body: unknown, labels: LabelMaker): RequestLabels {
  const [first, second, third, fourth, ...rest] = path;
  if (first === undefined) {
    if (verb === 'POST') {
      return labels(bundleType(body));
    }
    return verb === 'GET' ? labels('search-system') : labels('other');
  }
  if (first === 'metadata' && second === undefined) {
    return labels('capabilities');
  }
  if (first === '.well-known') {
    return labels('discovery');
  }
  if (first === '_history' && second === undefined) {
    return labels('history-system');
  }
  if (first === '_search' && second === undefined) {
    return labels('search-system');
  }
  if (first.startsWith('$') && second === undefined) {
    return labels('operation', '', operationName(first));
  }
  const type = KNOWN_TYPES.has(first) ? first : 'unknown';
  if (second === undefined) {
    return labels(typeInteraction(verb), type);
  }
  if (third === undefined) {
    if (second === '_search') {
      return labels('search-type', type);
    }
    if (second === '_history') {
      return labels('history-type', type);
    }
    if (second.startsWith('$')) {
      return labels('operation', type, operationName(second));
    }
    return labels(instanceInteraction(verb), type);
  }
  if (third === '_history' && rest.length === 0) {
    return labels(fourth === undefined ? 'history-instance' : 'vread', type);
  }
  if (third.startsWith('$') && fourth === undefined) {
    return labels('operation', type, operationName(third));
  }
  return labels('other', type);
}

function typeInteraction(verb: string): string {
  switch (verb) {
    case 'GET':
      return 'search-type';
    case 'POST':
      return 'create';
    // Conditional update, patch and delete: the search names the instance.
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'other';
  }
}

function instanceInteraction(verb: string): string {
  switch (verb) {
    case 'GET':
      return 'read';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return 'other';
  }
}

function operationName(segment: string): string {
  return KNOWN_OPERATIONS.has(segment.slice(1)) ? segment : 'unknown';
}

function bundleType(body: unknown): string {
  const type = typeof body === 'object' && body !== null ? (body as { type?: unknown }).type : undefined;
  return type === 'batch' ? 'batch' : 'transaction';
}
