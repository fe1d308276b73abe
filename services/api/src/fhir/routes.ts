/**
 * The FHIR REST API under /fhir/R4: the thin Express adapter around the route table (fhir-routes.ts). Answers what
 * needs no token (the CapabilityStatement, the SubscriptionTopics), authenticates, serves our guide's conformance
 * resources, and turns every other request into a FhirRequest run with the caller's capabilities, writing the FHIR
 * response with its headers.
 */
import { withFoldedDenials } from '@carecircle/consent';
import { badRequest, fail, getConformanceResource, getConformanceResources } from '@carecircle/fhir';
import { createDeniedRequestLimit, getRequestContext, tooManyDenials } from '@carecircle/auth';
import express, { type Request, type Response } from 'express';
import type { AppServices } from '../app-services';
import { fhirBody } from '../http/fhir-body';
import { sendFhir } from '../http/fhir-response';
import { queryParams } from '../http/query-params';
import { hasUtf8Query, requireUtf8Query } from '../http/strict-text';
import { createTopicsRouter } from '../subscriptions/routes';
import { authenticate } from './authenticate';
import { processBundle } from './bundle-processor';
import { buildCapabilityStatement } from './capability-statement';
import { serveConformance } from './conformance';
import type { InteractionContext } from './fhir-interaction';
import { handleFhirInteraction } from './fhir-routes';
import { createOperationContext } from './operations/operation-capabilities';
import type { FhirMethod, FhirRequest, FhirResponse } from './fhir-request';

const PREFER_RETURN = /return=(minimal|representation|OperationOutcome)/;

/** The router mounted at /fhir/R4. */
export function createFhirRouter(services: AppServices): express.Router {
  const { config } = services;
  const router = express.Router();
  const conformanceTypes = [...new Set(getConformanceResources().map((r) => r.resourceType))];
  const capabilityStatement = buildCapabilityStatement(config, conformanceTypes);
  const denialLimit = createDeniedRequestLimit(services, config.deniedRequestsPerMinute, () =>
    services.logger.warn({ msg: 'Redis is not answering: the limit on refused requests counts in this process only' }),
  );

  // A parameter that is not UTF-8 would otherwise be read with U+FFFD in its place: 400 before anything reads it.
  router.use(requireUtf8Query);
  // Public: clients discover what the server supports (and which topics they may subscribe to) before they hold a token.
  router.get('/metadata', (_req, res) => {
    res.locals.interaction = 'capabilities';
    sendFhir(res, 200, capabilityStatement);
  });
  router.use(createTopicsRouter(config.fhirBaseUrl));

  router.use(authenticate(services));
  router.use(fhirBody(config.maxBodyBytes));

  router.get(conformancePaths(conformanceTypes), (req, res) => {
    res.locals.interaction = 'conformance';
    const [type = '', id] = req.path.split('/').filter(Boolean);
    sendFhir(res, 200, serveConformance(type, id, queryParams(req), config.fhirBaseUrl, getConformanceResource, getConformanceResources));
  });

  router.all('/{*path}', async (req: Request, res: Response) => {
    const request = toFhirRequest(req);
    res.locals.interaction = `${request.method} ${request.path.split('/')[0] ?? ''}`;
    const requestContext = getRequestContext();
    const { repository, caller } = requestContext;
    const wait = await denialLimit.retryAfter(caller);
    if (wait !== undefined) {
      res.setHeader('Retry-After', String(wait));
      fail(tooManyDenials(wait));
    }
    const workflows = { referralDeadlines: config.referralDeadlines };
    const context: InteractionContext = {
      repository,
      baseUrl: config.fhirBaseUrl,
      workflows,
      processBundle: (bundle, preferReturn) => processBundle(bundle, repository, config.fhirBaseUrl, workflows, services.logger, preferReturn),
      operations: () => createOperationContext(services, requestContext),
      named: (interaction) => {
        res.locals.interaction = interaction;
      },
    };
    // The request's refusals become one AuditEvent per client, and count against the caller's limit.
    const response = await withFoldedDenials(
      () => handleFhirInteraction(request, context),
      () => denialLimit.countRefusedRequest(caller),
    );
    writeFhirResponse(res, response, config.fhirBaseUrl);
  });
  return router;
}

function conformancePaths(types: readonly string[]): string[] {
  return types.flatMap((type) => [`/${type}`, `/${type}/:id`]);
}

function toFhirRequest(req: Request): FhirRequest {
  const method = req.method === 'HEAD' ? 'GET' : (req.method as FhirMethod);
  const prefer = PREFER_RETURN.exec(req.get('prefer') ?? '')?.[1] as FhirRequest['preferReturn'];
  const ifMatch = conditionalHeader(req, 'If-Match');
  const ifNoneExist = conditionalHeader(req, 'If-None-Exist');
  const ifNoneMatch = conditionalHeader(req, 'If-None-Match');
  const ifModifiedSince = req.get('If-Modified-Since');
  return {
    method,
    path: req.path.replace(/^\/+/, ''),
    query: queryParams(req),
    body: req.body as unknown,
    ...(ifMatch ? { ifMatch } : {}),
    ...(ifNoneExist ? { ifNoneExist } : {}),
    ...(ifNoneMatch ? { ifNoneMatch } : {}),
    ...(ifModifiedSince ? { ifModifiedSince } : {}),
    ...(prefer ? { preferReturn: prefer } : {}),
  };
}

/**
 * A conditional header's value. Sent empty, it is a 400: the request asked for a condition and named none, and going
 * on unconditionally (an update without its version check) would do what the client guarded against.
 */
function conditionalHeader(req: Request, name: 'If-Match' | 'If-None-Exist' | 'If-None-Match'): string | undefined {
  const value = req.get(name);
  if (value !== undefined && value.trim() === '') {
    fail(badRequest(`${name} may not be empty`, `http.${name}`));
  }
  // If-None-Exist is a query: UTF-8 once its escapes are decoded, as the request's own query must be.
  if (value !== undefined && name === 'If-None-Exist' && !hasUtf8Query(`?${value}`)) {
    fail(badRequest('If-None-Exist is not valid UTF-8 once its %XX escapes are decoded', `http.${name}`));
  }
  return value;
}

function writeFhirResponse(res: Response, response: FhirResponse, baseUrl: string): void {
  const { version } = response;
  if (version) {
    res.setHeader('ETag', `W/"${version.versionId}"`);
    if (version.lastUpdated) {
      res.setHeader('Last-Modified', new Date(version.lastUpdated).toUTCString());
    }
    if (response.location) {
      res.setHeader('Location', `${baseUrl}/${version.resourceType}/${version.id}/_history/${version.versionId}`);
    }
  }
  sendFhir(res, response.status, response.status === 304 ? undefined : response.resource);
}
