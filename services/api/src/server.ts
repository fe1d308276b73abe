/**
 * The API's lifecycle: open services, build the app with whatever the process mounts beside it (the portal, for
 * ROLE all), listen; and close in two steps, so that a launcher running more in the same process (the worker) can
 * stop it between them: stop accepting first, close the database and Redis last.
 */
import type { Server } from 'node:http';
import type { Config } from '@carecircle/config';
import type { Logger } from '@carecircle/log';
import { createApp, type AppMounts } from './app';
import type { AppServices } from './app-services';
import { answerClientErrors } from './http/client-errors';
import { closeServices, openServices } from './open-services';

export interface RunningServer {
  /** The port actually bound (useful with PORT=0). */
  readonly port: number;
  /** The opened database, Redis and metrics registry, for what runs beside the API in the same process. */
  readonly services: AppServices;
  /** Stops accepting connections and waits for the open ones to finish. */
  stopAccepting(): Promise<void>;
  /** Closes the database and Redis: after {@link stopAccepting}, and after whatever else used them has stopped. */
  closeServices(): Promise<void>;
}

/** Opens the API's services and listens on PORT with `mounts` served beside the API; returns a handle to stop it. */
export async function startServer(config: Config, logger: Logger, mounts: AppMounts = {}): Promise<RunningServer> {
  const services = await openServices(config, logger);
  const server = await listen(createApp(services, mounts), config.port);
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : config.port,
    services,
    stopAccepting: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    closeServices: () => closeServices(services),
  };
}

function listen(app: ReturnType<typeof createApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, (err?: Error) => (err ? reject(err) : resolve(server)));
    answerClientErrors(server);
    server.keepAliveTimeout = 65_000;
    server.requestTimeout = 30_000;
  });
}
