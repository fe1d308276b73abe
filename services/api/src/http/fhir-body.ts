/**
 * Request bodies for the FHIR API: JSON (FHIR, plain, or JSON Patch) within the configured size, forms for `_search`
 * (kept as URLSearchParams, every field in order, so the search parser judges each one: a `__proto__` field is an
 * unknown parameter, not silently dropped). Anything else on a write answers 415, as does a Content-Encoding other than
 * gzip, deflate or br; a body that does not decompress is a 400 (error-handler.ts). JSON keys that could pollute
 * prototypes are refused outright, as is JSON nested deeper than any resource (json-depth.ts), and a body (or form
 * field) that is not UTF-8 is a 400 rather than read with U+FFFD in place of the bytes sent (strict-text.ts).
 */
import { badRequest, exceedsJsonDepth, MAX_JSON_DEPTH, OperationOutcomeError, unsupportedMediaType } from '@carecircle/fhir';
import express, { type NextFunction, type Request, type Response } from 'express';
import { requireSupportedContentEncoding, verifyUtf8Body, verifyUtf8Form } from './strict-text';

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json'];
const FORM_TYPE = 'application/x-www-form-urlencoded';
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class ForbiddenKeyError extends Error {}

/** Middleware factories parsing JSON and form bodies, then checking the content type of writes. */
export function fhirBody(maxBodyBytes: number) {
  const json = express.json({
    type: JSON_TYPES,
    limit: maxBodyBytes,
    strict: true,
    verify: verifyUtf8Body,
    reviver(key: string, value: unknown) {
      if (FORBIDDEN_KEYS.has(key)) {
        throw new ForbiddenKeyError();
      }
      return value;
    },
  });
  const formText = express.text({ type: FORM_TYPE, limit: maxBodyBytes, verify: verifyUtf8Form });

  function parseJson(req: Request, res: Response, next: NextFunction): void {
    json(req, res, (err?: unknown) => {
      // body-parser passes the reviver's own error object on (as a 400 parse failure).
      if (err instanceof ForbiddenKeyError) {
        next(new OperationOutcomeError(badRequest('JSON keys __proto__, constructor and prototype are not allowed')));
        return;
      }
      if (!err && exceedsJsonDepth(req.body)) {
        next(new OperationOutcomeError(badRequest(`JSON may nest at most ${MAX_JSON_DEPTH} levels deep`)));
        return;
      }
      next(err);
    });
  }

  function parseForm(req: Request, res: Response, next: NextFunction): void {
    formText(req, res, (err?: unknown) => {
      if (!err && typeof req.body === 'string' && req.is(FORM_TYPE)) {
        req.body = new URLSearchParams(req.body);
      }
      next(err);
    });
  }

  function requireSupportedContentType(req: Request, _res: Response, next: NextFunction): void {
    if (!['POST', 'PUT', 'PATCH'].includes(req.method)) {
      next();
      return;
    }
    const isSearch = req.method === 'POST' && /\/_search$/.test(req.path);
    const accepted = isSearch ? [FORM_TYPE] : req.method === 'PATCH' ? ['application/json-patch+json'] : JSON_TYPES.slice(0, 2);
    if (!req.is(accepted)) {
      next(new OperationOutcomeError(unsupportedMediaType));
      return;
    }
    next();
  }

  return [requireSupportedContentEncoding, parseJson, parseForm, requireSupportedContentType];
}
