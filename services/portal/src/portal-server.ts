/**
 * The portal run alone (ROLE=portal), so production scales it apart from the API: its own HTTP server on PORT with
 * the portal at /portal, `GET /healthz` (the process is up) and `GET /readyz` (Redis, which holds the sessions,
 * answers). It reaches the API only at PORTAL_API_URL (else BASE_URL).
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { createPortal } from './portal';

export interface RunningPortalServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startPortalServer(config: Config, logger: Logger): Promise<RunningPortalServer> {
  const portal = createPortal({ config, logger });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  app.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const ready = await portal.ready();
    res
      .status(ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: ready ? 'ok' : 'unavailable', checks: { redis: ready ? 'ok' : 'fail' } });
  });
  app.use('/portal', portal.router);
  app.use((_req, res) => {
    res.redirect(303, '/portal/');
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  server.requestTimeout = 30_000;
  await portal.start();
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : config.port,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await portal.close();
    },
  };
}
