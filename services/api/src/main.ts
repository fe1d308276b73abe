/**
 * Entry point of `npm start`: API and worker together on PORT (ROLE=all), or the API alone (ROLE=api).
 */
import { ConfigError, loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { exitOnShutdownSignals, startWorkerProcess } from '@carecircle/worker';
import { StartupError } from './open-services';
import { startServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, { role: config.role });
  if (config.role === 'worker') {
    await startWorkerProcess(config, logger);
    return;
  }
  const server = await startServer(config, logger);
  const base = config.port === server.port ? config.baseUrl : `http://localhost:${server.port}`;
  process.stdout.write(
    [
      `CareCircle is running (${config.role === 'all' ? 'API and worker' : 'API'}).`,
      `  FHIR base:   ${base}/fhir/R4`,
      `  Metadata:    ${base}/fhir/R4/metadata`,
      `  Health:      ${base}/healthz, ${base}/readyz`,
      `  Database:    ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/`}`,
      ...(config.adminTokenGenerated && config.env !== 'production'
        ? [`  Admin token: ${config.adminToken}   (generated for this run; set ADMIN_TOKEN to fix it)`]
        : []),
      '',
    ].join('\n'),
  );
  exitOnShutdownSignals(logger, () => server.close());
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`${err.message}\n`);
  } else {
    process.stderr.write(`CareCircle failed to start: ${(err as Error).stack ?? String(err)}\n`);
  }
  process.exit(1);
});
