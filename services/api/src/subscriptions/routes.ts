/**
 * Subscription topics, relative to the FHIR base (/fhir/R4): {@link createTopicsRouter} serves our SubscriptionTopics,
 * read-only, public (they hold no data about anyone). R4 has no SubscriptionTopic type, so each topic is served in the
 * Backport IG's R4 representation, a `Basic` resource with the R5 cross-version SubscriptionTopic extensions (see
 * @carecircle/notify topic-resources.ts), at the fixed path `GET /SubscriptionTopic/{id}` (id = last segment of the
 * canonical), and `GET /SubscriptionTopic[?url=|_id=]` returns them as a searchset. They are never stored, so
 * `GET /Basic` does not list them.
 *
 * The Subscription operations (`$status`, `$events`) are in the FHIR operation registry (subscription-operations.ts),
 * routed with every other interaction by the FHIR route table (fhir/fhir-routes.ts).
 */
import { badRequest, fail, notFound, OperationOutcomeError } from '@carecircle/fhir';
import { listTopicResources } from '@carecircle/notify';
import type { Bundle } from '@medplum/fhirtypes';
import express, { type Request, type Response } from 'express';
import { sendFhir } from '../http/fhir-response';
import { queryParams } from '../http/query-params';

/** The most a search may ask for (the store's `_count` cap); there are far fewer topics. */
const MAX_TOPIC_COUNT = 1000;

/**
 * The topics, read-only.
 * @param fhirBaseUrl - the public FHIR base for `fullUrl`s (config.fhirBaseUrl); defaults to the mount path.
 */
export function createTopicsRouter(fhirBaseUrl?: string): express.Router {
  const router = express.Router();
  const topics = listTopicResources();
  router.get('/SubscriptionTopic', function searchTopics(req: Request, res: Response) {
    res.locals.interaction = 'search SubscriptionTopic';
    const params = queryParams(req);
    for (const name of params.keys()) {
      if (!['url', '_id', '_count'].includes(name)) {
        fail(badRequest('SubscriptionTopic searches support url and _id only'));
      }
    }
    const count = readTopicCount(params.getAll('_count'));
    // As in every search: comma-separated values are alternatives, a repeated parameter must hold as well (AND).
    const urls = params.getAll('url').map((value) => value.split(','));
    const ids = params.getAll('_id').map((value) => value.split(','));
    const matches = topics.filter(
      (topic) =>
        urls.every((alternatives) => topic.extension?.some((e) => e.url.endsWith('SubscriptionTopic.url') && alternatives.includes(e.valueUri ?? ''))) &&
        ids.every((alternatives) => alternatives.includes(topic.id ?? '')),
    );
    const base = fhirBaseUrl ?? req.baseUrl;
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: matches.length,
      entry: matches
        .slice(0, count)
        .map((resource) => ({ fullUrl: `${base}/SubscriptionTopic/${resource.id}`, resource, search: { mode: 'match' } })),
    };
    sendFhir(res, 200, bundle);
  });
  router.get('/SubscriptionTopic/:id', function readTopic(req: Request, res: Response) {
    res.locals.interaction = 'read SubscriptionTopic';
    const topic = topics.find((t) => t.id === req.params.id);
    if (!topic) {
      throw new OperationOutcomeError(notFound);
    }
    sendFhir(res, 200, topic);
  });
  return router;
}

/** `_count` of a topic search, checked as every search checks it: one non-negative integer (at most 1000). */
function readTopicCount(values: readonly string[]): number {
  if (values.length > 1) {
    fail(badRequest('_count may appear only once', '_count'));
  }
  const value = values[0];
  if (value === undefined) {
    return MAX_TOPIC_COUNT;
  }
  if (!/^\d{1,9}$/.test(value)) {
    fail(badRequest('_count: expected a non-negative integer', '_count'));
  }
  return Math.min(Number(value), MAX_TOPIC_COUNT);
}
