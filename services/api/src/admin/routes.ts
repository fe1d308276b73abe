/**
 * The operator's admin API under /admin: registering, reading, updating, disabling and enabling clients; creating,
 * reading, disabling and enabling users and resetting their passwords; rotating the token signing key; listing and
 * replaying the notification dead letters (dead-letter-handlers.ts). Every route
 * needs `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time); every change is logged with ids only and
 * audited as an AuditEvent (admin-audit.ts). Errors are OperationOutcomes, answered by the app's error handler.
 */
import { isAdminToken, type Caller } from '@carecircle/auth';
import { openDeadLetters, type DeadLetters } from '@carecircle/notify';
import { queueUnavailable } from '@carecircle/fhir';
import { OperationOutcomeError, unauthorized } from '@medplum/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppServices } from '../app-services';
import { getRequestId } from '../http/request-id';
import { verifyUtf8Body } from '../http/strict-text';
import {
  createUserHandler,
  disableClientHandler,
  disableUserHandler,
  enableClientHandler,
  enableUserHandler,
  getClientHandler,
  getUserHandler,
  listClientsHandler,
  listUsersHandler,
  registerClientHandler,
  resetPasswordHandler,
  rotateSigningKeyHandler,
  updateClientHandler,
} from './admin-handlers';
import { listDeadLettersHandler, replayDeadLetterHandler } from './dead-letter-handlers';

const BODY_LIMIT = '64kb';

/** The admin router, mounted at `/admin`. */
export function createAdminRouter(services: AppServices): express.Router {
  const router = express.Router();
  router.use(function requireAdminToken(req: Request, res: Response, next: NextFunction) {
    const header = req.get('authorization') ?? '';
    const token = /^Bearer +(\S+) *$/i.exec(header)?.[1];
    if (!token || !isAdminToken(token, services.config.adminToken)) {
      throw new OperationOutcomeError(unauthorized);
    }
    // The access log names the caller of every request; here it is always the operator.
    res.locals.caller = { kind: 'admin' } satisfies Caller;
    next();
  });
  // A body that is not UTF-8 is a 400, not read with U+FFFD in place of what was sent.
  router.use(express.json({ limit: BODY_LIMIT, verify: verifyUtf8Body }));

  router.post('/clients', async function postClient(req, res) {
    const client = await registerClientHandler(services, req.body, getRequestId(res));
    services.logger.info({ admin: 'client.register', clientId: client.client_id }, 'admin registered a client');
    res.status(201).json(client);
  });
  router.get('/clients', async function getClients(_req, res) {
    res.json(await listClientsHandler(services));
  });
  router.get('/clients/:id', async function getClient(req, res) {
    res.json(await getClientHandler(services, req.params.id));
  });
  router.patch('/clients/:id', async function patchClient(req, res) {
    const client = await updateClientHandler(services, req.params.id, req.body, getRequestId(res));
    services.logger.info({ admin: 'client.update', clientId: client.client_id }, 'admin updated a client');
    res.json(client);
  });
  router.post('/clients/:id/disable', async function postDisableClient(req, res) {
    const client = await disableClientHandler(services, req.params.id, getRequestId(res));
    services.logger.info({ admin: 'client.disable', clientId: client.client_id }, 'admin disabled a client');
    res.json(client);
  });
  router.post('/clients/:id/enable', async function postEnableClient(req, res) {
    const client = await enableClientHandler(services, req.params.id, getRequestId(res));
    services.logger.info({ admin: 'client.enable', clientId: client.client_id }, 'admin enabled a client');
    res.json(client);
  });

  router.post('/users', async function postUser(req, res) {
    const user = await createUserHandler(services, req.body, getRequestId(res));
    services.logger.info({ admin: 'user.create', userId: user.id }, 'admin created a user');
    res.status(201).json(user);
  });
  router.get('/users', async function getUsers(_req, res) {
    res.json(await listUsersHandler(services));
  });
  router.get('/users/:id', async function getUser(req, res) {
    res.json(await getUserHandler(services, req.params.id));
  });
  router.post('/users/:id/password', async function postPassword(req, res) {
    const user = await resetPasswordHandler(services, req.params.id, req.body, getRequestId(res));
    services.logger.info({ admin: 'user.password-reset', userId: user.id }, 'admin reset a password');
    res.json(user);
  });
  router.post('/users/:id/disable', async function postDisableUser(req, res) {
    const user = await disableUserHandler(services, req.params.id, getRequestId(res));
    services.logger.info({ admin: 'user.disable', userId: user.id }, 'admin disabled a user');
    res.json(user);
  });
  router.post('/users/:id/enable', async function postEnableUser(req, res) {
    const user = await enableUserHandler(services, req.params.id, getRequestId(res));
    services.logger.info({ admin: 'user.enable', userId: user.id }, 'admin enabled a user');
    res.json(user);
  });

  router.post('/signing-keys/rotate', async function postRotateSigningKey(_req, res) {
    const { kid } = await rotateSigningKeyHandler(services, getRequestId(res));
    services.logger.info({ admin: 'signing-key.rotate', kid }, 'admin rotated the token signing key');
    res.status(201).json({ kid });
  });

  // Queue handles on the app's Redis connection (shared, closed by closeServices; the handles hold nothing else),
  // opened on first use. While Redis is not connected no handle is made: the request is a 503 at once.
  let openedDeadLetters: DeadLetters | undefined;
  async function withDeadLetters<T>(work: (deadLetters: DeadLetters) => Promise<T>): Promise<T> {
    if (services.redis.status !== 'ready') {
      throw new OperationOutcomeError(queueUnavailable());
    }
    openedDeadLetters ??= openDeadLetters(services.redis, services.config.redisPrefix);
    return work(openedDeadLetters);
  }
  router.get('/dead-letters', async function getDeadLetters(req, res) {
    res.json(await withDeadLetters((deadLetters) => listDeadLettersHandler(services, deadLetters, req.query)));
  });
  router.post('/dead-letters/:id/replay', async function postReplayDeadLetter(req, res) {
    const replay = await withDeadLetters((deadLetters) => replayDeadLetterHandler(services, deadLetters, req.params.id, getRequestId(res)));
    services.logger.info({ admin: 'dead-letter.replay', deadLetter: replay.id }, 'admin queued a dead letter for replay');
    res.status(202).json(replay);
  });

  return router;
}
