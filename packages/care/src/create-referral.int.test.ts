import type { Consent, Organization, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { Caller } from '@carecircle/auth';
import { SHARE_CATEGORY_SYSTEM } from '@carecircle/consent';
import { refusalOf, rejectionStatus } from '@carecircle/testing';
import { BUSINESS_HOURS_URL } from './business-hours';
import { FULFILL_TASK_CODE } from './care-codes';
import { FOLLOW_UP_SYSTEM } from './follow-up-state';
import { COMPLETION_DUE_URL } from './referral-deadlines';
import { createReferral, createReferralIfNoneExist } from './create-referral';
import { buildClientConsent, buildReferralRequest, callers, seedCareWorld, withShareCategory, world } from './testing/care-fixtures';
import { openCareTestEnv, type CareTestEnv } from './testing/care-test-env';

const now = new Date('2026-03-02T09:00:00.000Z');
const options = { now };

describe('createReferral (PostgreSQL)', () => {
  let env: CareTestEnv;
  let consents: Consent[] = [];

  /** Stores consents of the client for this test only (revoked in afterEach). */
  async function consentTo(...list: Consent[]): Promise<void> {
    for (const consent of list) {
      consents.push((await env.repository.create(consent)).resource);
    }
  }

  async function refer(request: ServiceRequest, caller: Caller = callers.practiceSystem) {
    return env.as(caller, (repository) => createReferral(repository, request, options));
  }

  async function storedReferrals(): Promise<{ requests: number; tasks: number }> {
    return { requests: await env.countVersions('ServiceRequest'), tasks: await env.countVersions('Task') };
  }

  beforeAll(async () => {
    env = await openCareTestEnv();
    await seedCareWorld(env.repository);
  });

  afterEach(async () => {
    for (const consent of consents) {
      await env.repository.delete('Consent', consent.id as string);
    }
    consents = [];
  });

  afterAll(async () => {
    await env?.close();
  });

  it('creates the ServiceRequest and its Task together, the Task carrying every contract field', async () => {
    await consentTo(buildClientConsent());
    const before = await storedReferrals();

    const { serviceRequest, task } = await refer(buildReferralRequest());

    expect(await storedReferrals()).toEqual({ requests: before.requests + 1, tasks: before.tasks + 1 });
    const storedRequest = await env.repository.read<ServiceRequest>('ServiceRequest', serviceRequest.id as string);
    const storedTask = await env.repository.read<Task>('Task', task.id as string);
    expect(storedRequest).toEqual(serviceRequest);
    expect(storedTask).toEqual(task);
    expect(serviceRequest.meta?.tag).toEqual([{ system: SHARE_CATEGORY_SYSTEM, code: 'care-plan' }]);
    expect(serviceRequest.authoredOn).toBe(now.toISOString());
    expect(task).toMatchObject({
      status: 'requested',
      intent: 'order',
      code: { coding: [FULFILL_TASK_CODE] },
      focus: { reference: `ServiceRequest/${serviceRequest.id}` },
      for: { reference: world.patient },
      requester: { reference: world.therapist },
      owner: { reference: world.clinic },
      authoredOn: '2026-03-02T09:00:00.000Z',
      restriction: { period: { end: '2026-03-03T17:00:00.000Z' } },
      meta: { versionId: '1', tag: [{ system: SHARE_CATEGORY_SYSTEM, code: 'care-plan' }] },
    });
  });

  it("keeps the referral's own share category and gives the Task the same tag", async () => {
    await consentTo(buildClientConsent({ categories: ['care-plan', 'sexual-history'] }));
    const { serviceRequest, task } = await refer(withShareCategory(buildReferralRequest(), 'sexual-history'));
    expect(serviceRequest.meta?.tag).toEqual([{ system: SHARE_CATEGORY_SYSTEM, code: 'sexual-history' }]);
    expect(task.meta?.tag).toEqual([{ system: SHARE_CATEGORY_SYSTEM, code: 'sexual-history' }]);
  });

  it.each([
    ['the role itself', world.urologistRole],
    ["the role's organization", world.clinic],
    ["the role's practitioner", world.urologist],
  ])('refers to a PractitionerRole when the consent names %s', async (_label, recipient) => {
    await consentTo(buildClientConsent({ recipients: [recipient] }));
    const { task } = await refer(buildReferralRequest({ performer: [{ reference: world.urologistRole }] }));
    expect(task.owner).toEqual({ reference: world.urologistRole });
  });

  it('finds the permitting consent among several', async () => {
    await consentTo(
      buildClientConsent({ recipients: [world.elsewhere] }),
      buildClientConsent({ categories: ['progress'] }),
      buildClientConsent({ status: 'inactive' }),
      buildClientConsent(),
    );
    await expect(refer(buildReferralRequest())).resolves.toMatchObject({ task: { status: 'requested' } });
  });

  describe('without an active consent naming the performer: 422 and nothing stored', () => {
    const cases: [string, Consent[], ServiceRequest?][] = [
      ['no consent at all', []],
      ['a revoked consent', [buildClientConsent({ status: 'inactive' })]],
      ['an expired consent', [buildClientConsent({ period: { start: '2025-01-01', end: '2026-03-01' } })]],
      ['a consent not yet in force', [buildClientConsent({ period: { start: '2026-04-01' } })]],
      ['a consent for another recipient', [buildClientConsent({ recipients: [world.elsewhere] })]],
      ['a consent without the referral category', [buildClientConsent({ categories: ['progress', 'demographics'] })]],
      [
        "a consent without the referral's own category",
        [buildClientConsent({ categories: ['care-plan'] })],
        withShareCategory(buildReferralRequest(), 'trauma-history'),
      ],
      ['a consent for research only', [buildClientConsent({ purposes: ['HRESCH'] })]],
      ['a consent of another client', [buildClientConsent({ patient: world.otherPatient })]],
      [
        'psychotherapy notes, whatever the consent says',
        [buildClientConsent({ categories: ['psychotherapy-notes'] })],
        withShareCategory(buildReferralRequest(), 'psychotherapy-notes'),
      ],
      [
        "a consent naming another organization than the role's",
        [buildClientConsent({ recipients: [world.elsewhere] })],
        buildReferralRequest({ performer: [{ reference: world.urologistRole }] }),
      ],
    ];

    it.each(cases)('%s', async (_label, list, request = buildReferralRequest()) => {
      await consentTo(...list);
      const before = await storedReferrals();

      const refusal = await refusalOf(refer(request));

      expect(refusal.status).toBe(422);
      expect(refusal.text).toMatch(/consents? naming .* for TREAT|Psychotherapy notes are never shared/);
      expect(refusal.expression).toBe('ServiceRequest.performer');
      expect(refusal.text).not.toMatch(/alex|Rivera|Erectile/i);
      expect(await storedReferrals()).toEqual(before);
    });
  });

  describe('a malformed referral: 400 with the field, nothing stored', () => {
    const cases: [string, ServiceRequest][] = [
      ['not active', buildReferralRequest({ status: 'draft' })],
      ['intent plan', buildReferralRequest({ intent: 'plan' })],
      ['no referral category', buildReferralRequest({ category: [{ text: 'Consultation' }] })],
      ['a Group subject', buildReferralRequest({ subject: { reference: 'Group/couple' } })],
      ['no performer', buildReferralRequest({ performer: [] })],
      ['two performers', buildReferralRequest({ performer: [{ reference: world.clinic }, { reference: world.elsewhere }] })],
      ['a Practitioner performer', buildReferralRequest({ performer: [{ reference: world.urologist }] })],
      ['no requester', buildReferralRequest({ requester: undefined })],
      ['two share categories', { ...buildReferralRequest(), meta: { tag: ['care-plan', 'progress'].map((code) => ({ system: SHARE_CATEGORY_SYSTEM, code })) } }],
      ['an unknown share category', withShareCategory(buildReferralRequest(), 'gossip')],
    ];
    const expressions = [
      'ServiceRequest.status',
      'ServiceRequest.intent',
      'ServiceRequest.category',
      'ServiceRequest.subject',
      'ServiceRequest.performer',
      'ServiceRequest.performer',
      'ServiceRequest.performer',
      'ServiceRequest.requester',
      'ServiceRequest.meta.tag',
      'ServiceRequest.meta.tag',
    ];

    it.each(cases.map(([label, request], i) => [label, request, expressions[i]] as const))('%s', async (_label, request, expression) => {
      await consentTo(buildClientConsent({ recipients: [world.clinic, world.elsewhere] }));
      const before = await storedReferrals();
      expect(await refusalOf(refer(request))).toMatchObject({ status: 400, expression });
      expect(await storedReferrals()).toEqual(before);
    });
  });

  it('refuses a performer that does not exist with 422', async () => {
    await consentTo(buildClientConsent({ recipients: ['Organization/nowhere'] }));
    const refusal = await refusalOf(refer(buildReferralRequest({ performer: [{ reference: 'Organization/nowhere' }] })));
    expect(refusal).toMatchObject({ status: 422, expression: 'ServiceRequest.performer' });
  });

  it('stores neither resource when the Task is refused: a partner cannot refer on the practice’s behalf', async () => {
    await consentTo(buildClientConsent({ recipients: [world.clinic] }));
    const before = await storedReferrals();
    expect(await rejectionStatus(refer(buildReferralRequest(), callers.clinicSystem))).toBe(403);
    expect(await storedReferrals()).toEqual(before);
  });

  describe('conditionally (If-None-Exist)', () => {
    const referConditionally = (request: ServiceRequest, ifNoneExist: string) =>
      env.as(callers.practiceSystem, (repository) => createReferralIfNoneExist(repository, request, ifNoneExist, options));

    it('checks the consent like any referral when nothing matches: 422, and nothing stored', async () => {
      const before = await storedReferrals();
      const refusal = await refusalOf(referConditionally(buildReferralRequest(), 'identifier=http://x|never-matches'));
      expect(refusal).toMatchObject({ status: 422, expression: 'ServiceRequest.performer' });
      expect(await storedReferrals()).toEqual(before);
    });

    it('creates the referral with its Task when nothing matches, and answers the match afterwards', async () => {
      await consentTo(buildClientConsent());
      const request = buildReferralRequest({ identifier: [{ system: 'http://x', value: 'conditional-1' }] });
      const before = await storedReferrals();
      const created = await referConditionally(request, 'identifier=http://x|conditional-1');
      expect(created.outcome).toBe('created');
      expect(created.outcome === 'created' && created.task.focus?.reference).toBe(`ServiceRequest/${created.serviceRequest.id}`);
      expect(await storedReferrals()).toEqual({ requests: before.requests + 1, tasks: before.tasks + 1 });

      const again = await referConditionally(request, 'identifier=http://x|conditional-1');
      expect(again).toMatchObject({ outcome: 'existing', serviceRequest: { id: created.serviceRequest.id } });
      expect(await storedReferrals()).toEqual({ requests: before.requests + 1, tasks: before.tasks + 1 });
    });
  });

  it('lets the practice’s therapist refer too', async () => {
    await consentTo(buildClientConsent());
    const { task } = await refer(buildReferralRequest(), callers.therapist);
    expect(task.status).toBe('requested');
  });
  describe("deadlines in the practice's business hours", () => {
    const berlinWeek = {
      url: BUSINESS_HOURS_URL,
      extension: [
        { url: 'timeZone', valueCode: 'Europe/Berlin' },
        {
          url: 'openingHours',
          extension: [
            ...['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => ({ url: 'daysOfWeek', valueCode: day })),
            { url: 'openingTime', valueTime: '09:00:00' },
            { url: 'closingTime', valueTime: '17:00:00' },
          ],
        },
      ],
    };
    let practice: Organization;

    beforeAll(async () => {
      practice = await env.repository.read<Organization>('Organization', 'practice');
      await env.repository.update({ ...practice, extension: [berlinWeek] });
    });
    afterAll(async () => {
      const current = await env.repository.read<Organization>('Organization', 'practice');
      const { extension: _dropped, ...withoutHours } = current;
      await env.repository.update(withoutHours);
    });

    it('a routine referral sent Friday 17:00 (Berlin) is due Tuesday 17:00, on time, with its completion due', async () => {
      await consentTo(buildClientConsent());
      const friday = new Date('2026-12-04T16:00:00.000Z');
      const { task } = await env.as(callers.practiceSystem, (repository) => createReferral(repository, buildReferralRequest(), { now: friday }));
      expect(task.restriction?.period?.end).toBe('2026-12-08T16:00:00.000Z');
      expect(task.priority).toBe('routine');
      expect(task.businessStatus?.coding).toEqual([{ system: FOLLOW_UP_SYSTEM, code: 'on-time', display: 'On time' }]);
      // 80 business hours: ten working days, Friday the 18th at 17:00 in Berlin.
      expect(task.extension).toEqual([{ url: COMPLETION_DUE_URL, valueDateTime: '2026-12-18T16:00:00.000Z' }]);
    });

    it('an urgent referral sent at the same time is due Monday 17:00; a stat one Monday 10:00', async () => {
      await consentTo(buildClientConsent());
      const friday = new Date('2026-12-04T16:00:00.000Z');
      const due = async (priority: ServiceRequest['priority']) => {
        const { task } = await env.as(callers.practiceSystem, (repository) => createReferral(repository, buildReferralRequest({ priority }), { now: friday }));
        return [task.priority, task.restriction?.period?.end];
      };
      expect(await due('urgent')).toEqual(['urgent', '2026-12-07T16:00:00.000Z']);
      expect(await due('stat')).toEqual(['stat', '2026-12-07T09:00:00.000Z']);
    });

    it('a malformed business-hours extension on the practice is a 400 and is not stored', async () => {
      const current = await env.repository.read<Organization>('Organization', 'practice');
      const bad = { ...current, extension: [{ url: BUSINESS_HOURS_URL, extension: [{ url: 'timeZone', valueCode: 'Nowhere/Special' }] }] };
      expect(await rejectionStatus(env.as(callers.practiceSystem, (repository) => repository.update(bad)))).toBe(400);
      expect((await env.repository.read<Organization>('Organization', 'practice')).extension).toEqual([berlinWeek]);
    });
  });
});
