/**
 * The operator's admin API under /admin: registering, listing and disabling clients and users. Every route needs
 * `Authorization: Bearer <ADMIN_TOKEN>` (compared in constant time); every change is logged with ids only.
 * Errors are OperationOutcomes, answered by the app's error handler.
 */
import { isAdminToken, rotateSigningKey, type Caller } from '@carecircle/auth';
import { OperationOutcomeError, unauthorized } from '@medplum/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppServices } from '../app-services';
import { verifyUtf8Body } from '../http/strict-text';
import {
  createUserHandler,
  disableClientHandler,
  disableUserHandler,
  listClientsHandler,
  listUsersHandler,
  registerClientHandler,
} from './admin-handlers';

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
    const client = await registerClientHandler(services, req.body);
    services.logger.info({ admin: 'client.register', clientId: client.client_id }, 'admin registered a client');
    res.status(201).json(client);
  });
  router.get('/clients', async function getClients(_req, res) {
    res.json(await listClientsHandler(services));
  });
  router.post('/clients/:id/disable', async function postDisableClient(req, res) {
    const client = await disableClientHandler(services, req.params.id);
    services.logger.info({ admin: 'client.disable', clientId: client.client_id }, 'admin disabled a client');
    res.json(client);
  });

  router.post('/users', async function postUser(req, res) {
    const user = await createUserHandler(services, req.body);
    services.logger.info({ admin: 'user.create', userId: user.id }, 'admin created a user');
    res.status(201).json(user);
  });
  router.get('/users', async function getUsers(_req, res) {
    res.json(await listUsersHandler(services));
  });
  router.post('/users/:id/disable', async function postDisableUser(req, res) {
    const user = await disableUserHandler(services, req.params.id);
    services.logger.info({ admin: 'user.disable', userId: user.id }, 'admin disabled a user');
    res.json(user);
  });

  router.post('/signing-keys/rotate', async function postRotateSigningKey(_req, res) {
    const kid = await rotateSigningKey(services);
    services.logger.info({ admin: 'signing-key.rotate', kid }, 'admin rotated the token signing key');
    res.status(201).json({ kid });
  });

  return router;
}
