import type { Queryable } from '@carecircle/store';
import type { Consent, Resource } from '@medplum/fhirtypes';
import { rejectionStatus } from '@carecircle/testing';
import { buildSharingConsent, SHARING_CONSENT_PROFILE } from './consent-builders';
import { checkSharingConsent } from './consent-write-rule';

/** A transaction that counts statements and finds nothing. */
function emptyStore(): Queryable & { statements: number } {
  const store = {
    statements: 0,
    query<R>(): Promise<{ rows: R[]; rowCount: number }> {
      store.statements++;
      return Promise.resolve({ rows: [], rowCount: 0 });
    },
  };
  return store;
}

function consent(overrides: Partial<Consent> = {}): Consent {
  return {
    ...buildSharingConsent({ patient: 'Patient/p1', custodian: 'Organization/o1', recipients: ['Organization/o2'], categories: ['progress'] }),
    ...overrides,
  };
}

describe('checkSharingConsent', () => {
  test('other resource types pass untouched, without a query', async () => {
    const tx = emptyStore();
    const observation: Resource = { resourceType: 'Observation', status: 'final', code: {} };
    await checkSharingConsent(observation, undefined, tx);
    expect(observation).toEqual({ resourceType: 'Observation', status: 'final', code: {} });
    expect(tx.statements).toBe(0);
  });

  test('claims the sharing-consent profile once, after any other profile', async () => {
    const other = 'https://example.org/StructureDefinition/other';
    const next = consent({ meta: { profile: [other] } });
    await rejectionStatus(checkSharingConsent(next, undefined, emptyStore()));
    expect(next.meta?.profile).toEqual([other, SHARING_CONSENT_PROFILE]);
    const again = consent();
    await rejectionStatus(checkSharingConsent(again, undefined, emptyStore()));
    expect(again.meta?.profile).toEqual([SHARING_CONSENT_PROFILE]);
  });

  test('content checks come before any lookup', async () => {
    const tx = emptyStore();
    const next = consent();
    next.provision = { ...next.provision, period: { start: '2026-02', end: '2026-01-31' } };
    expect(await rejectionStatus(checkSharingConsent(next, undefined, tx))).toBe(400);
    expect(tx.statements).toBe(0);
  });

  test('a revocation skips the lookups; an active write does them', async () => {
    const current = consent({ id: 'c1' });
    const revocationTx = emptyStore();
    expect(await rejectionStatus(checkSharingConsent(consent({ id: 'c1', status: 'inactive' }), current, revocationTx))).toBe('ok');
    expect(revocationTx.statements).toBe(0);

    const activeTx = emptyStore();
    expect(await rejectionStatus(checkSharingConsent(consent({ id: 'c1' }), current, activeTx))).toBe(422);
    expect(activeTx.statements).toBe(1);
  });

  test('a new consent is checked whatever its status', async () => {
    expect(await rejectionStatus(checkSharingConsent(consent({ status: 'draft' }), undefined, emptyStore()))).toBe(422);
  });
});
