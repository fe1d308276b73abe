/**
 * Entry point of `npm start`: API, worker and the client's portal together on PORT (ROLE=all), or the API, the
 * worker or the portal alone (ROLE=api | worker | portal). A failed start
 * prints one line saying what is wrong and what to do (startup-failure.ts), never a stack trace, and exits 1.
 */
import { loadConfig, type Config } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { startPortalServer } from '@carecircle/portal';
import { exitOnShutdownSignals, startWorkerProcess } from '@carecircle/worker';
import { startServer } from './server';
import { startupFailureLine } from './startup-failure';

/** The configuration once read: a failure after that is explained in its terms (which port, which database). */
let config: Config | undefined;

async function main(): Promise<void> {
  config = loadConfig(process.env, { keepDevelopmentAdminToken: true });
  const logger = createLogger(config.logLevel, { role: config.role });
  if (config.role === 'worker') {
    await startWorkerProcess(config, logger);
    return;
  }
  if (config.role === 'portal') {
    const portal = await startPortalServer(config, logger);
    const base = config.port === portal.port ? config.baseUrl : `http://localhost:${portal.port}`;
    process.stdout.write(`CareCircle is running (portal).\n  Portal:      ${base}/portal/\n  API:         ${config.portal.apiUrl}\n`);
    exitOnShutdownSignals(logger, () => portal.close());
    return;
  }
  const server = await startServer(config, logger);
  const base = config.port === server.port ? config.baseUrl : `http://localhost:${server.port}`;
  process.stdout.write(
    [
      `CareCircle is running (${config.role === 'all' ? 'API and worker' : 'API'}).`,
      `  FHIR base:   ${base}/fhir/R4`,
      ...(config.role === 'all' && (config.env !== 'production' || config.portal.clientId) ? [`  Portal:      ${base}/portal/   (clients sign in here)`] : []),
      `  Metadata:    ${base}/fhir/R4/metadata`,
      `  Health:      ${base}/healthz, ${base}/readyz`,
      `  Metrics:     ${base}/metrics (admin token)${server.metricsPort === undefined ? '' : `, http://localhost:${server.metricsPort}/metrics`}`,
      `  Database:    ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/`}`,
      ...(config.adminTokenGenerated && config.env !== 'production'
        ? [
            `  Admin token: ${config.adminToken}   (${
              config.env === 'development' ? `kept in ${config.dataDir}/admin-token` : 'generated for this run'
            }; set ADMIN_TOKEN to choose another)`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  exitOnShutdownSignals(logger, () => server.close());
}

main().catch((err: unknown) => {
  process.stderr.write(`${startupFailureLine(err, config)}\n`);
  process.exit(1);
});
