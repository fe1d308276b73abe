/**
 * A process's own small HTTP server, for orchestrators' probes: a worker run alone (ROLE=worker) serves no HTTP
 * otherwise, so Kubernetes or compose could not tell a live worker from a wedged one. `/healthz` (liveness) asks
 * only the process itself; `/readyz` (readiness) asks its dependencies, each within a time limit so a probe never
 * hangs on a dependency that does not answer. Answers are small JSON documents with check names and `ok`/`fail`,
 * never data. Other endpoints (a metrics page) mount on the same port with `route()`.
 *
 * `runHealthChecks` is also what the API's `/readyz` runs, so both processes judge and report checks alike.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '@carecircle/log';

/** The longest one check may take before it counts as failed; below the 3 s probe timeouts of deploy/kubernetes. */
export const HEALTH_CHECK_TIMEOUT_MS = 2000;

/** One named check: passes when it resolves to anything but `false`; fails when it throws, rejects or times out. */
export type HealthCheck = () => Promise<unknown> | unknown;

/** What a probe answers: 200 with status `ok` when every check passed, else 503 with `unavailable`. */
export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, 'ok' | 'fail'>;
}

/** A handler for a route mounted on the health server; it answers `res` itself. */
export type HealthRouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface HealthServerOptions {
  /** Port to listen on; 0 takes a free one (see `port`). */
  port: number;
  /** Address to bind; default all interfaces, as the kubelet probes the pod's address. */
  host?: string;
  /** Cheap in-process checks for `/healthz`: a failure here means only a restart helps. Never a dependency. */
  liveness: Record<string, HealthCheck>;
  /** Checks for `/readyz`: dependencies the process needs to do its work. */
  readiness: Record<string, HealthCheck>;
  logger: Logger;
}

export interface HealthServer {
  /** The port actually bound. */
  readonly port: number;
  /**
   * Serves GET and HEAD requests for exactly `path` (no query matching) with `handler`, beside `/healthz` and
   * `/readyz`, e.g. `health.route('/metrics', (_req, res) => ...)`. A handler that throws answers 500.
   */
  route(path: string, handler: HealthRouteHandler): void;
  /** Stops accepting connections and closes idle ones; resolves when the server has closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Runs every check at once, each bounded by `timeoutMs`, and reports which passed.
 * @param checks - named checks; the names are what the report lists.
 * @param timeoutMs - how long each check may take before it counts as failed.
 */
export async function runHealthChecks(checks: Record<string, HealthCheck>, timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<HealthReport> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, (await passes(check, timeoutMs)) ? 'ok' : 'fail'] as const),
  );
  return {
    status: results.every(([, result]) => result === 'ok') ? 'ok' : 'unavailable',
    checks: Object.fromEntries(results),
  };
}

/**
 * Starts the health server and resolves once it listens.
 * @param options - port, checks and logger; see {@link HealthServerOptions}.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const routes = new Map<string, HealthRouteHandler>([
    ['/healthz', (_req, res) => answerReport(res, options.liveness)],
    ['/readyz', (_req, res) => answerReport(res, options.readiness)],
  ]);
  const server = createServer((req, res) => {
    handleRequest(routes, req, res).catch((err: unknown) => {
      options.logger.warn({ path: pathOf(req), err: (err as Error).name }, 'health server route failed');
      if (!res.headersSent) {
        sendJson(res, 500, { status: 'error' });
      } else {
        res.destroy();
      }
    });
  });
  server.keepAliveTimeout = 5000;
  server.requestTimeout = 10_000;
  await listen(server, options.port, options.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  options.logger.info({ port }, 'health server listening');
  let closing: Promise<void> | undefined;
  return {
    port,
    route(path, handler) {
      routes.set(path, handler);
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      })),
  };
}

async function handleRequest(routes: Map<string, HealthRouteHandler>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const handler = routes.get(pathOf(req));
  if (!handler) {
    sendJson(res, 404, { status: 'not-found' });
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendJson(res, 405, { status: 'method-not-allowed' });
    return;
  }
  await handler(req, res);
}

async function answerReport(res: ServerResponse, checks: Record<string, HealthCheck>): Promise<void> {
  const report = await runHealthChecks(checks);
  sendJson(res, report.status === 'ok' ? 200 : 503, report);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

async function passes(check: HealthCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check).then((result) => result !== false), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, ...(host ? { host } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
