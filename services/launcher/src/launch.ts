/**
 * What one CareCircle process runs, by ROLE: the API, the worker and the client's portal together on PORT (all), or
 * one of them alone (api | worker | portal). The services do not know of each other; this module composes them in one
 * process and owns the order they stop in on SIGTERM/SIGINT: stop accepting (API and metrics servers), drain the
 * worker, close the portal's sessions, close the database, close Redis.
 */
import { startServer } from '@carecircle/api';
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { createPortal, startPortalServer, type Portal } from '@carecircle/portal';
import { exitOnShutdownSignals, startMetricsServer } from '@carecircle/process';
import { startWorker, startWorkerProcess } from '@carecircle/worker';

/** Starts what `config.role` names and installs the shutdown handlers; resolves once it serves. */
export async function launch(config: Config, logger: Logger): Promise<void> {
  switch (config.role) {
    case 'worker':
      return startWorkerProcess(config, logger);
    case 'portal':
      return launchPortal(config, logger);
    case 'api':
    case 'all':
      return launchApi(config, logger);
    default:
      return config.role satisfies never;
  }
}

/** ROLE=portal: the portal's own HTTP server, reaching the API at PORTAL_API_URL. */
async function launchPortal(config: Config, logger: Logger): Promise<void> {
  const portal = await startPortalServer(config, logger);
  const base = config.port === portal.port ? config.baseUrl : `http://localhost:${portal.port}`;
  process.stdout.write(`CareCircle is running (portal).\n  Portal:      ${base}/portal/\n  API:         ${config.portal.apiUrl}\n`);
  exitOnShutdownSignals(logger, () => portal.close());
}

/**
 * ROLE=api, or ROLE=all: the API with, in the same process, the portal mounted at /portal and the worker (its metrics
 * in the API's registry, its database the API's); and the metrics server on METRICS_PORT when set.
 */
async function launchApi(config: Config, logger: Logger): Promise<void> {
  const portal = portalFor(config, logger);
  const api = await startServer(config, logger, { portal: portal?.router });
  // The portal calls this very process over HTTP; with PORT=0 it learns the port only now.
  await portal?.start(api.port);
  const worker =
    config.role === 'all' ? await startWorker({ config, db: api.services.db, logger, metrics: api.services.metrics }) : undefined;
  const metricsServer =
    config.metricsPort === undefined ? undefined : await startMetricsServer({ port: config.metricsPort, registry: api.services.metrics, logger });
  process.stdout.write(startLines(config, api.port, metricsServer?.port));
  exitOnShutdownSignals(logger, async () => {
    await Promise.all([api.stopAccepting(), metricsServer?.close()]);
    await worker?.close();
    await portal?.close();
    await api.closeServices();
  });
}

/**
 * The portal, served at /portal for ROLE all: always in development and tests (it registers itself with the admin
 * token), in production only when its registration is configured (PORTAL_CLIENT_ID, PORTAL_KEY_FILE).
 */
function portalFor(config: Config, logger: Logger): Portal | undefined {
  if (config.role !== 'all') {
    return undefined;
  }
  if (config.env === 'production' && !config.portal.clientId) {
    logger.warn('the portal is off: set PORTAL_CLIENT_ID and PORTAL_KEY_FILE to serve it at /portal');
    return undefined;
  }
  return createPortal({ config, logger: logger.child({ service: 'portal' }) });
}

/** What the API process prints once it serves: where everything is, and the admin token when one was generated. */
function startLines(config: Config, port: number, metricsPort: number | undefined): string {
  const base = config.port === port ? config.baseUrl : `http://localhost:${port}`;
  return [
    `CareCircle is running (${config.role === 'all' ? 'API and worker' : 'API'}).`,
    `  FHIR base:   ${base}/fhir/R4`,
    ...(config.role === 'all' && (config.env !== 'production' || config.portal.clientId) ? [`  Portal:      ${base}/portal/   (clients sign in here)`] : []),
    `  Metadata:    ${base}/fhir/R4/metadata`,
    `  Health:      ${base}/healthz, ${base}/readyz`,
    `  Metrics:     ${base}/metrics (admin token)${metricsPort === undefined ? '' : `, http://localhost:${metricsPort}/metrics`}`,
    `  Database:    ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/`}`,
    ...(config.adminTokenGenerated && config.env !== 'production'
      ? [
          `  Admin token: ${config.adminToken}   (${
            config.env === 'development' ? `kept in ${config.dataDir}/admin-token` : 'generated for this run'
          }; set ADMIN_TOKEN to choose another)`,
        ]
      : []),
    '',
  ].join('\n');
}
