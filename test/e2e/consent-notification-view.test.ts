/**
 * The consent topic tells a recipient what its read of the Consent would, and no more, end to end (HTTP -> outbox ->
 * BullMQ on real Redis -> worker -> webhook): a full-resource notification carries the Consent as the recipient is
 * shown it (its own actor, no other recipient, no signed form), `$events` likewise, and a subscription filter cannot
 * find what the recipient is not shown (a partner filtering by another recipient hears nothing; the custodian does).
 */
import { buildSharingConsent, SUBSETTED_TAG } from '@carecircle/consent';
import type { SubscriptionFacts } from '@carecircle/notify';
import { fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import type { Bundle, Consent, Parameters, Patient, Subscription } from '@medplum/fhirtypes';
import type { NotificationReceiver } from '../support/notification-receiver';
import { startNotifyStack, type NotifyStack } from '../support/notify-stack';

const CONSENT_TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/consent';
const SIGNED_PDF = Buffer.from('%PDF-1.4 signed release: HIV status attached').toString('base64');

let t: TestApp;
let stack: NotifyStack;
let receiver: NotificationReceiver;
let practice: string;
let partnerQ: string;
let partnerX: string;
let practiceToken: string;
let qToken: string;
let client: Patient;

function subscribe(token: string, path: string, extra: Partial<SubscriptionFacts> = {}): Promise<Subscription> {
  return stack.subscribe(token, path, CONSENT_TOPIC, extra);
}

beforeAll(async () => {
  stack = await startNotifyStack();
  ({ t, receiver } = stack);
  const admin = fhirClient(t, t.adminToken);
  practice = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
  partnerQ = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Q' }))).body.id}`;
  partnerX = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'X' }))).body.id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  qToken = await (await registerSystemClient(t, partnerQ, 'system/*.cruds')).token();
  client = (await fhirClient(t, practiceToken).post('Patient', buildPatient())).body as Patient;
});

afterAll(async () => {
  await stack.close();
});

test('a recipient hears of a Consent naming it as it is shown it, and cannot filter by what it is not shown', async () => {
  const full = await subscribe(qToken, '/q/full', { content: 'full-resource' });
  await subscribe(qToken, '/q/probe-x', { filters: [`Consent?actor=${partnerX}`] });
  await subscribe(qToken, '/q/not-x', { filters: [`Consent?actor:not=${partnerX}`] });
  await subscribe(practiceToken, '/practice/x', { filters: [`Consent?actor=${partnerX}`] });
  const res = await fhirClient(t, practiceToken).post('Consent', {
    ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [partnerQ, partnerX], categories: ['progress', 'care-plan', 'sexual-history'] }),
    sourceAttachment: { contentType: 'application/pdf', title: 'Signed release: HIV status attached', data: SIGNED_PDF },
  });
  expect(res.status).toBe(201);
  const consent = res.body as Consent;

  const delivered = await receiver.waitFor('the full-resource notification', () => receiver.events('/q/full')[0], 15_000);
  const shown = delivered.bundle.entry?.[1]?.resource as Consent;
  expect(shown.id).toBe(consent.id);
  expect(shown.meta?.versionId).toBe('1');
  expect(shown.meta?.tag).toEqual(expect.arrayContaining([expect.objectContaining({ system: SUBSETTED_TAG.system, code: 'SUBSETTED' })]));
  expect(shown.provision?.actor?.map((a) => a.reference?.reference)).toEqual([partnerQ]);
  expect(shown.sourceAttachment).toBeUndefined();
  for (const body of [delivered.body, JSON.stringify((await fhirClient(t, qToken).get(`Subscription/${full.id}/$events`)).body as Parameters)]) {
    expect(body).not.toContain(partnerX.split('/')[1]);
    expect(body).not.toContain('HIV');
    expect(body).not.toContain(SIGNED_PDF);
  }

  // The custodian's filter on X finds it; Q's filters are judged on what Q is shown, where X does not appear.
  await receiver.waitFor('the custodian notification', () => receiver.events('/practice/x')[0], 15_000);
  await receiver.waitFor('the not-X notification', () => receiver.events('/q/not-x')[0], 15_000);
  await new Promise((r) => setTimeout(r, 1500));
  expect(receiver.events('/q/probe-x')).toEqual([]);
  const custodianView = receiver.events('/practice/x')[0]?.bundle as Bundle;
  expect(custodianView.entry?.[1]?.fullUrl).toBe(`${t.services.config.fhirBaseUrl}/Consent/${consent.id}`);
});
