import { OperationOutcomeError } from '@medplum/core';
import type { Caller } from './caller';
import { OAuthError } from './oauth-error';
import { parseRequestedPurposes, resolvePurposeOfUse } from './purpose-of-use';

const system = (purposes?: string[]): Caller => ({
  kind: 'system',
  clientId: 'c1',
  organization: 'Organization/o',
  scope: 'system/*.rs',
  ...(purposes ? { purposes } : {}),
});

describe('purpose_of_use at the token endpoint', () => {
  test.each<[string | undefined, string[] | undefined]>([
    [undefined, undefined],
    ['', undefined],
    ['  ', undefined],
    ['TREAT', ['TREAT']],
    ['CAREMGT  TREAT CAREMGT', ['CAREMGT', 'TREAT']],
  ])('%j -> %j', (value, expected) => {
    expect(parseRequestedPurposes(value)).toEqual(expected);
  });

  test.each(['MARKETING', 'TREAT treat', 'TREAT,CAREMGT'])('%j is invalid_request', (value) => {
    const err = (() => {
      try {
        return parseRequestedPurposes(value);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OAuthError);
    expect((err as OAuthError).error).toBe('invalid_request');
  });
});

describe('the purpose of one request', () => {
  test.each<[string, Caller, string | undefined, string]>([
    ['no token purposes, no header: treatment', system(), undefined, 'TREAT'],
    ['no token purposes: any supported header', system(), 'HRESCH', 'HRESCH'],
    ['token purposes, no header: the first', system(['CAREMGT', 'TREAT']), undefined, 'CAREMGT'],
    ['token purposes: a header among them', system(['CAREMGT', 'TREAT']), 'TREAT', 'TREAT'],
    ['the admin: like a token without purposes', { kind: 'admin' }, 'PUBHLTH', 'PUBHLTH'],
  ])('%s', (_name, caller, stated, expected) => {
    expect(resolvePurposeOfUse(caller, stated)).toBe(expected);
  });

  test('a header outside the token purposes is 403', () => {
    let err: unknown;
    try {
      resolvePurposeOfUse(system(['CAREMGT']), 'TREAT');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OperationOutcomeError);
    expect((err as OperationOutcomeError).outcome.id).toBe('forbidden');
  });
});
