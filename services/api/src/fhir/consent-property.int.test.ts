/**
 * Property: over randomly generated clients, resources and consents, what each caller gets through EVERY read path
 * over HTTP (read, vread, search with paging, _summary=count, _total, _include, _revinclude, _include:iterate and
 * _revinclude:iterate, chained parameters and _has, instance / type / system history, history _at, _summary and
 * _elements views on read and search, batch GET entries, $summary) is exactly what the contract's rule permits, before
 * and after a revocation (a chain or _has matches only through resources the caller may see); and a partner's conditional update and delete
 * (`PUT|DELETE Type?_id=`) of a resource it may not see answer exactly as for an id never stored, and change nothing.
 *
 * The oracle is written here, in plain TypeScript over the generated facts, and imports nothing from the production
 * decision code: a consent permits a resource to a caller iff it is active, its period covers now, one of its IRCP
 * actors is the caller's organization, the caller itself or one of its roles in force there (active, within its
 * period), its purpose is the request's, and it lists the resource's category; a resource about several clients, or
 * naming another client anywhere (an Observation's focus, a Goal's expressedBy), needs that for every one of them;
 * psychotherapy notes never; the client's Patient under any such consent. The client itself sees its own compartment
 * without psychotherapy notes. Every reference a shown resource makes to another generated resource is shown with its
 * id and display exactly when the caller may see that resource (or it is a client the resource is about), and is
 * otherwise the withheld marker, with neither. Seeds make a failing run replayable.
 */
import type { Bundle, Consent, Patient, Resource } from '@medplum/fhirtypes';
import { buildOrganization, buildPatient, buildPractitioner } from '@carecircle/testing';
import { logInUser, registerApp, registerSystemClient } from '../smart-test-clients';
import { createdAs, createTestApp, fhirClient, type TestApp } from '../test-harness';

const SHARE = 'https://carecircle.dev/fhir/CodeSystem/share-category';
const CATEGORIES = [
  'demographics',
  'presenting-concerns',
  'treatment-goals',
  'care-plan',
  'progress',
  'trauma-history',
  'mental-health',
  'sexual-history',
  'medications',
  'relationship-context',
  'psychotherapy-notes',
] as const;
const NOTES = 'psychotherapy-notes';
const TYPES = ['Observation', 'Condition', 'Goal', 'DocumentReference', 'Communication'] as const;
const NOW = Date.now();

/** What the oracle knows of a generated resource. */
interface ResourceFact {
  ref: string;
  type: string;
  /** `Patient/x` of every client the resource is about (subject, and a Communication's recipient): its compartments. */
  clients: string[];
  /** `Patient/x` of every client the resource names anywhere: its compartments and any other Patient it references. */
  named: string[];
  /** References the resource makes to other generated resources (or Patients), each with its own display. */
  links: Array<{ target: string; display: string }>;
  subject: string;
  category: string;
}

/** What the oracle knows of a generated consent. */
interface ConsentFact {
  id: string;
  patient: string;
  actors: string[];
  categories: string[];
  purposes: string[];
  /** Epoch ms; start inclusive, end exclusive. */
  start?: number;
  end?: number;
  active: boolean;
}

/** A caller and the references a consent may name it by. */
interface CallerFact {
  name: string;
  token: string;
  names: string[];
  /** A fresh token (backend-services tokens live 300 s, less than a run on a busy machine). */
  renew?: () => Promise<string>;
  /** A token of the same organization's system with write scopes too, for the conditional writes. */
  writer?: () => Promise<string>;
}

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first instant of a `YYYY-MM-DD` date, and the first instant after it. */
const dayStart = (date: string) => Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));
const dayEnd = (date: string) => dayStart(date) + 24 * 3600 * 1000;

function inForce(consent: ConsentFact): boolean {
  return consent.active && (consent.start === undefined || consent.start <= NOW) && (consent.end === undefined || NOW < consent.end);
}

function names(consent: ConsentFact, caller: CallerFact, purpose: string): boolean {
  return inForce(consent) && consent.purposes.includes(purpose) && consent.actors.some((a) => caller.names.includes(a));
}

/** The oracle: may `caller` see `resource` for `purpose` under `consents`? */
function expectedVisible(caller: CallerFact, resource: ResourceFact, consents: readonly ConsentFact[], purpose: string): boolean {
  if (resource.type === 'Patient') {
    return consents.some((c) => c.patient === resource.ref && names(c, caller, purpose));
  }
  if (resource.category === NOTES) {
    return false;
  }
  return resource.named.every((client) =>
    consents.some((c) => c.patient === client && names(c, caller, purpose) && c.categories.includes(resource.category)),
  );
}

let t: TestApp;
let practice: string;
let callers: CallerFact[];
let practiceToken: string;
let appId: string;

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;

const created = <T extends Resource>(token: string, resource: T): Promise<T> => createdAs(t, token, resource);

/** Every entry of a search or history, following next links; `mode` limits to match or include entries. */
async function allEntries(
  token: string,
  path: string,
  headers: Record<string, string>,
  mode?: 'match' | 'include',
): Promise<{ refs: string[]; resources: Resource[]; total?: number }> {
  const refs: string[] = [];
  const resources: Resource[] = [];
  let next: string | undefined = path;
  let total: number | undefined;
  while (next) {
    const res = await fhirClient(t, token, headers).get(next);
    expect({ path: next, status: res.status }).toEqual({ path: next, status: 200 });
    const bundle = res.body as Bundle;
    total ??= bundle.total;
    for (const entry of bundle.entry ?? []) {
      if (!mode || entry.search?.mode === mode) {
        refs.push(entry.resource ? ref(entry.resource) : (entry.fullUrl ?? '').split('/').slice(-2).join('/'));
        if (entry.resource) {
          resources.push(entry.resource);
        }
      }
    }
    next = bundle.link?.find((l) => l.relation === 'next')?.url?.replace(`${t.services.config.fhirBaseUrl}/`, '');
  }
  return { refs, resources, ...(total === undefined ? {} : { total }) };
}

const sorted = (values: Iterable<string>) => [...values].sort();

beforeAll(async () => {
  t = await createTestApp();
  const admin = t.adminToken;
  practice = `Organization/${(await created(admin, buildOrganization({ name: 'Practice' }))).id}`;
  const partnerA = `Organization/${(await created(admin, buildOrganization({ name: 'Partner A' }))).id}`;
  const partnerB = `Organization/${(await created(admin, buildOrganization({ name: 'Partner B' }))).id}`;
  practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
  appId = await registerApp(t, 'launch/patient patient/*.rs patient/Consent.cu user/*.rs');
  const doctorA1 = ref(await created(admin, buildPractitioner({ name: [{ family: 'A1' }] })));
  const doctorA2 = ref(await created(admin, buildPractitioner({ name: [{ family: 'A2' }] })));
  const roleA1 = ref(await created(admin, { resourceType: 'PractitionerRole', active: true, practitioner: { reference: doctorA1 }, organization: { reference: partnerA } }));
  const roleA2 = ref(await created(admin, { resourceType: 'PractitionerRole', active: false, practitioner: { reference: doctorA2 }, organization: { reference: partnerA } }));
  // An active role whose period has ended, and one not yet begun: outside their periods they name nobody.
  const roleA2Ended = ref(await created(admin, { resourceType: 'PractitionerRole', active: true, period: { start: '2019-01-01', end: '2020-01-01' }, practitioner: { reference: doctorA2 }, organization: { reference: partnerA } }));
  const roleA1Future = ref(await created(admin, { resourceType: 'PractitionerRole', period: { start: '2099-01-01' }, practitioner: { reference: doctorA1 }, organization: { reference: partnerA } }));
  const userToken = async (fhirUser: string, organization: string) => (await logInUser(t, appId, { fhirUser, organization }, 'user/*.rs')).access_token;
  const systemA = await registerSystemClient(t, partnerA, 'system/*.rs');
  const writerA = await registerSystemClient(t, partnerA, 'system/*.cruds');
  const systemB = await registerSystemClient(t, partnerB, 'system/*.rs');
  callers = [
    { name: 'system of partner A', token: await systemA.token(), names: [partnerA], renew: () => systemA.token(), writer: () => writerA.token() },
    { name: 'system of partner B', token: await systemB.token(), names: [partnerB], renew: () => systemB.token() },
    // A1 holds an active role at A (and one not yet begun); A2's roles there are inactive or ended, so only A and A2
    // itself name A2.
    { name: 'practitioner A1', token: await userToken(doctorA1, partnerA), names: [partnerA, doctorA1, roleA1] },
    { name: 'practitioner A2', token: await userToken(doctorA2, partnerA), names: [partnerA, doctorA2] },
  ];
  // Every reference a consent may name (roles inactive, ended or not begun included: such a consent matches nobody).
  actorChoices = [partnerA, partnerB, doctorA1, doctorA2, roleA1, roleA2, roleA2Ended, roleA1Future];
});
afterAll(async () => {
  await t.close();
});

let actorChoices: string[];

/** A resource of `type` about `subject` filed under `category`, as a partner's upsert would send it. */
function upsertBody(type: string, subject: string, category: string): Resource {
  const meta = { tag: [{ system: SHARE, code: category === NOTES ? 'progress' : category }] };
  const about = { reference: subject };
  switch (type) {
    case 'Patient':
      return { resourceType: 'Patient', name: [{ family: 'Upsert' }] };
    case 'Observation':
      return { resourceType: 'Observation', meta, status: 'final', code: { text: 'upsert' }, subject: about };
    case 'Condition':
      return { resourceType: 'Condition', meta, code: { text: 'upsert' }, subject: about };
    case 'Goal':
      return { resourceType: 'Goal', meta, lifecycleStatus: 'active', description: { text: 'upsert' }, subject: about };
    case 'DocumentReference':
      return { resourceType: 'DocumentReference', meta, status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'bm90ZQ==' } }], subject: about };
    default:
      return { resourceType: 'Communication', meta, status: 'completed', subject: about };
  }
}

describe('property: every read path returns exactly what the oracle permits', () => {
  test.each([1, 2])('seed %i', async (seed) => {
    const random = prng(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

    const patients: Patient[] = [];
    for (let i = 0; i < 3; i++) {
      patients.push(await created(practiceToken, buildPatient({ name: [{ family: `Seed${seed}-${i}` }] })));
    }
    const clientToken = (await logInUser(t, appId, { fhirUser: ref(patients[0] as Patient) }, 'launch/patient patient/*.rs')).access_token;

    const facts: ResourceFact[] = patients.map((p) => ({ ref: ref(p), type: 'Patient', clients: [ref(p)], named: [ref(p)], links: [], subject: ref(p), category: 'demographics' }));
    for (let i = 0; i < 24; i++) {
      const type = pick(TYPES);
      const subject = ref(pick(patients));
      const category = random() < 0.2 ? NOTES : pick(CATEGORIES);
      const other = type === 'Communication' && random() < 0.4 ? ref(pick(patients)) : undefined;
      // Outside the compartment definition: an Observation's focus, a Goal's expressedBy naming another client.
      const namedOther = (type === 'Observation' || type === 'Goal') && random() < 0.3 ? ref(pick(patients)) : undefined;
      // A reference with a display to an earlier resource (never a note: nothing shareable may point at one).
      const earlier = facts.filter((f) => f.type !== 'Patient' && f.category !== NOTES);
      const linked = earlier.length > 0 && random() < 0.6 ? pick(earlier).ref : undefined;
      const links = [
        ...(namedOther ? [{ target: namedOther, display: `Person ${seed}-${i}` }] : []),
        ...(linked ? [{ target: linked, display: `Linked ${seed}-${i}` }] : []),
      ];
      const linkTo = (target: string | undefined) => links.filter((l) => l.target === target).map((l) => ({ reference: l.target, display: l.display }));
      const meta = { tag: [{ system: SHARE, code: category }] };
      const body: Record<string, Resource> = {
        Observation: { resourceType: 'Observation', meta, status: 'final', code: { text: 'adherence' }, subject: { reference: subject }, ...(links.length > 0 ? { focus: links.map((l) => ({ reference: l.target, display: l.display })) } : {}) },
        Condition: { resourceType: 'Condition', meta, code: { text: 'concern' }, subject: { reference: subject }, ...(linked ? { evidence: [{ detail: linkTo(linked) }] } : {}) },
        Goal: { resourceType: 'Goal', meta, lifecycleStatus: 'active', description: { text: 'goal' }, subject: { reference: subject }, ...(namedOther ? { expressedBy: linkTo(namedOther)[0] } : {}), ...(linked ? { outcomeReference: linkTo(linked) } : {}) },
        DocumentReference: { resourceType: 'DocumentReference', meta, status: 'current', content: [{ attachment: { contentType: 'text/plain', data: 'bm90ZQ==' } }], subject: { reference: subject }, ...(linked ? { context: { related: linkTo(linked) } } : {}) },
        Communication: { resourceType: 'Communication', meta, status: 'completed', subject: { reference: subject }, ...(other ? { recipient: [{ reference: other }] } : {}), ...(linked ? { about: linkTo(linked) } : {}) },
      };
      const stored = await created(practiceToken, body[type] as Resource);
      const clients = [...new Set([subject, ...(other ? [other] : [])])];
      facts.push({ ref: ref(stored), type, clients, named: [...new Set([...clients, ...(namedOther ? [namedOther] : [])])], links, subject, category });
    }

    const consents: ConsentFact[] = [];
    const periods: Array<{ start?: string; end?: string } | undefined> = [undefined, { start: '2020-01-01' }, { end: '2020-12-31' }, { start: '2099-01-01' }, { start: '2020-01-01', end: '2099-12-31' }];
    for (let i = 0; i < 8; i++) {
      const patient = ref(pick(patients));
      const actors = [...new Set([pick(actorChoices), ...(random() < 0.3 ? [pick(actorChoices)] : [])])];
      const categories = CATEGORIES.filter((c) => c !== NOTES && random() < 0.4);
      const chosenCategories = categories.length > 0 ? categories : ['progress'];
      const purposes = [pick(['TREAT', 'TREAT', 'HPAYMT'])];
      const period = pick(periods);
      const active = random() < 0.8;
      const consent: Consent = {
        resourceType: 'Consent',
        status: active ? 'active' : 'inactive',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: patient },
        performer: [{ reference: patient }],
        organization: [{ reference: practice }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
        provision: {
          type: 'permit',
          ...(period ? { period } : {}),
          actor: actors.map((reference) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } })),
          purpose: purposes.map((code) => ({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code })),
          code: chosenCategories.map((code) => ({ coding: [{ system: SHARE, code }] })),
        },
      };
      const stored = await created(practiceToken, consent);
      consents.push({
        id: stored.id as string,
        patient,
        actors,
        categories: chosenCategories,
        purposes,
        ...(period?.start ? { start: dayStart(period.start) } : {}),
        ...(period?.end ? { end: dayEnd(period.end) } : {}),
        active,
      });
    }

    const subjects = patients.map(ref).join(',');
    const ids = new Set(facts.map((f) => f.ref));

    const checkCaller = async (caller: CallerFact, purpose: string, expected: (fact: ResourceFact) => boolean, label: string) => {
      const headers = { 'X-Purpose-Of-Use': purpose };
      const client = fhirClient(t, caller.token, headers);
      const visible = new Set(facts.filter(expected).map((f) => f.ref));
      const context = { seed, caller: label, purpose };

      // Each reference to another generated resource: as stored when the caller may see its target (or the target is a
      // client the resource is about), else the withheld marker; never the id or display of what it may not see.
      const expectLinks = (fact: ResourceFact, shown: Resource | undefined, path: string) => {
        const body = JSON.stringify(shown);
        for (const link of fact.links) {
          const targetId = link.target.split('/')[1] as string;
          const want = visible.has(link.target) || fact.clients.includes(link.target) ? 'shown' : 'withheld';
          const got = body.includes(`"reference":"${link.target}"`) && body.includes(`"display":"${link.display}"`)
            ? 'shown'
            : !body.includes(targetId) && !body.includes(link.display) && body.includes('"valueCode":"masked"')
              ? 'withheld'
              : `other: ${body}`;
          expect({ ...context, path, resource: fact.ref, link: link.target, got }).toEqual({ ...context, path, resource: fact.ref, link: link.target, got: want });
        }
      };

      // read, vread, instance history, a view of the read, one by one; and the same reads as one batch.
      for (const fact of facts) {
        const want = visible.has(fact.ref) ? 200 : 404;
        const read = await client.get(fact.ref);
        if (read.status === 200) {
          expectLinks(fact, read.body as Resource, 'read');
        }
        const view = await client.get(`${fact.ref}?_summary=data`);
        if (view.status === 200) {
          expectLinks(fact, view.body as Resource, 'read _summary=data');
        }
        const got = {
          read: read.status,
          vread: (await client.get(`${fact.ref}/_history/1`)).status,
          history: (await client.get(`${fact.ref}/_history`)).status,
          view: view.status,
          elements: (await client.get(`${fact.ref}?_elements=id`)).status,
        };
        expect({ ...context, resource: fact.ref, ...got }).toEqual({ ...context, resource: fact.ref, read: want, vread: want, history: want, view: want, elements: want });
      }
      if (caller.writer) {
        await checkConditionalWrites(await caller.writer(), headers, visible, context);
      }
      const batch = (await client.post('', { resourceType: 'Bundle', type: 'batch', entry: facts.map((f) => ({ request: { method: 'GET', url: f.ref } })) })).body as Bundle;
      expect({ ...context, batch: batch.entry?.map((e) => e.response?.status?.split(' ')[0]) }).toEqual({
        ...context,
        batch: facts.map((f) => (visible.has(f.ref) ? '200' : '404')),
      });

      // search (paged small, so paging is exercised), _total, _summary=count, _include, per type.
      for (const type of ['Patient', ...TYPES]) {
        const want = sorted(facts.filter((f) => f.type === type && visible.has(f.ref)).map((f) => f.ref));
        const query = type === 'Patient' ? `Patient?_id=${patients.map((p) => p.id).join(',')}` : `${type}?subject=${subjects}`;
        const found = await allEntries(caller.token, `${query}&_count=4&_total=accurate`, headers, 'match');
        for (const resource of found.resources) {
          const fact = facts.find((f) => f.ref === ref(resource));
          if (fact) {
            expectLinks(fact, resource, 'search');
          }
        }
        expect({ ...context, type, found: sorted(found.refs), total: found.total }).toEqual({ ...context, type, found: want, total: want.length });
        const count = (await client.get(`${query}&_summary=count`)).body as Bundle;
        expect({ ...context, type, count: count.total }).toEqual({ ...context, type, count: want.length });
        // Views match what the search matches, and show no more of what they reference than the whole resource does.
        for (const shape of ['_summary=data', '_summary=true', type === 'Patient' ? '_elements=name' : '_elements=subject']) {
          const viewed = await allEntries(caller.token, `${query}&${shape}&_count=7`, headers, 'match');
          expect({ ...context, type, shape, found: sorted(viewed.refs), total: viewed.total }).toEqual({ ...context, type, shape, found: want, total: want.length });
          if (shape === '_summary=data') {
            for (const resource of viewed.resources) {
              const fact = facts.find((f) => f.ref === ref(resource));
              if (fact) {
                expectLinks(fact, resource, `search ${shape}`);
              }
            }
          }
        }
        if (type !== 'Patient') {
          const included = await allEntries(caller.token, `${query}&_include=${type}:subject&_count=1000`, headers, 'include');
          const subjectsOfMatches = new Set(facts.filter((f) => f.type === type && visible.has(f.ref)).map((f) => f.subject));
          expect({ ...context, type, included: sorted(included.refs) }).toEqual({ ...context, type, included: sorted([...subjectsOfMatches].filter((p) => visible.has(p))) });
        }
      }
      // _revinclude from the clients.
      const revinclude = await allEntries(caller.token, `Patient?_id=${patients.map((p) => p.id).join(',')}&${TYPES.map((type) => `_revinclude=${type}:subject`).join('&')}&_count=1000`, headers, 'include');
      expect({ ...context, revinclude: sorted(revinclude.refs) }).toEqual({ ...context, revinclude: sorted(facts.filter((f) => f.type !== 'Patient' && visible.has(f.ref)).map((f) => f.ref)) });

      // Chains and _has match only through what the caller may see: the linked resource must be visible too.
      const patientIds = patients.map((p) => p.id).join(',');
      const factOf = new Map(facts.map((f) => [f.ref, f]));
      for (const type of TYPES) {
        const chained = await allEntries(caller.token, `${type}?subject:Patient.name=Seed${seed}-&_count=1000`, headers, 'match');
        expect({ ...context, type, chain: sorted(chained.refs) }).toEqual({
          ...context,
          type,
          chain: sorted(facts.filter((f) => f.type === type && visible.has(f.ref) && visible.has(f.subject)).map((f) => f.ref)),
        });
        const has = await allEntries(caller.token, `Patient?_id=${patientIds}&_has:${type}:subject:_lastUpdated=ge2000-01-01&_count=1000`, headers, 'match');
        expect({ ...context, type, has: sorted(has.refs) }).toEqual({
          ...context,
          type,
          has: sorted(patients.map(ref).filter((p) => visible.has(p) && facts.some((f) => f.type === type && f.subject === p && visible.has(f.ref)))),
        });
      }
      // An Observation found through what it focuses on (any type, untyped chain): only a target the caller may see.
      const focused = await allEntries(caller.token, `Observation?subject=${subjects}&focus._lastUpdated=ge2000-01-01&_count=1000`, headers, 'match');
      expect({ ...context, focusChain: sorted(focused.refs) }).toEqual({
        ...context,
        focusChain: sorted(facts.filter((f) => f.type === 'Observation' && visible.has(f.ref) && f.links.some((l) => visible.has(l.target))).map((f) => f.ref)),
      });
      // _has by category: a partner learns of a client's Condition in a category only when it may see that Condition.
      for (const category of CATEGORIES) {
        const has = await allEntries(caller.token, `Patient?_id=${patientIds}&_has:Condition:subject:_tag=${encodeURIComponent(`${SHARE}|${category}`)}&_summary=count`, headers);
        const want = patients.map(ref).filter((p) => visible.has(p) && facts.some((f) => f.type === 'Condition' && f.category === category && f.subject === p && visible.has(f.ref)));
        expect({ ...context, category, hasTotal: has.total }).toEqual({ ...context, category, hasTotal: want.length });
      }

      // _revinclude:iterate and _include:iterate: from the clients to their Observations, on to what those focus on
      // and back to those clients' Observations, level by level up to 4, each resource once and only if visible.
      const iterated = await allEntries(
        caller.token,
        `Patient?_id=${patientIds}&_revinclude:iterate=Observation:subject&_include:iterate=Observation:focus&_count=1000`,
        headers,
        'include',
      );
      const reached = new Set(patients.map(ref).filter((p) => visible.has(p)));
      const included: string[] = [];
      let level = [...reached];
      for (let depth = 1; depth <= 4 && level.length > 0; depth++) {
        const next: string[] = [];
        for (const from of level) {
          const fact = factOf.get(from);
          const targets =
            fact?.type === 'Patient'
              ? facts.filter((f) => f.type === 'Observation' && f.subject === from).map((f) => f.ref)
              : fact?.type === 'Observation'
                ? fact.links.map((l) => l.target)
                : [];
          for (const target of targets) {
            if (visible.has(target) && !reached.has(target)) {
              reached.add(target);
              next.push(target);
            }
          }
        }
        included.push(...next);
        level = next;
      }
      expect({ ...context, iterated: sorted(iterated.refs) }).toEqual({ ...context, iterated: sorted(included) });

      // type and system history (deletions and other seeds' resources left out of the comparison).
      for (const type of TYPES) {
        const history = await allEntries(caller.token, `${type}/_history?_count=50`, headers);
        expect({ ...context, type, history: sorted(history.refs.filter((r) => ids.has(r))) }).toEqual({
          ...context,
          type,
          history: sorted(facts.filter((f) => f.type === type && visible.has(f.ref)).map((f) => f.ref)),
        });
      }
      const system = await allEntries(caller.token, '_history?_count=200', headers);
      expect({ ...context, system: sorted(system.refs.filter((r) => ids.has(r))) }).toEqual({ ...context, system: sorted(visible) });
      // History as of now: every visible generated resource's current version, nothing else of theirs.
      const at = encodeURIComponent(new Date().toISOString());
      for (const type of TYPES) {
        const history = await allEntries(caller.token, `${type}/_history?_at=${at}&_count=50`, headers);
        expect({ ...context, type, historyAt: sorted(history.refs.filter((r) => ids.has(r))) }).toEqual({
          ...context,
          type,
          historyAt: sorted(facts.filter((f) => f.type === type && visible.has(f.ref)).map((f) => f.ref)),
        });
      }

      // $summary of each client: the Patient when visible, and the visible resources whose subject it is.
      for (const patient of patients) {
        const res = await client.get(`Patient/${patient.id}/$summary`);
        if (!visible.has(ref(patient))) {
          expect({ ...context, summary: ref(patient), status: res.status }).toEqual({ ...context, summary: ref(patient), status: 404 });
          continue;
        }
        const entries = ((res.body as Bundle).entry ?? []).slice(1).map((e) => ref(e.resource as Resource));
        expect({ ...context, summary: ref(patient), entries: sorted(entries) }).toEqual({
          ...context,
          summary: ref(patient),
          entries: sorted(facts.filter((f) => visible.has(f.ref) && (f.type === 'Patient' ? f.ref === ref(patient) : f.subject === ref(patient))).map((f) => f.ref)),
        });
      }
    };

    /**
     * A partner's conditional update and delete by `_id` of each generated resource: one it may not see answers exactly
     * as an id never stored does (the same body, the same status and outcome), and nothing is changed or created.
     */
    const checkConditionalWrites = async (writer: string, headers: Record<string, string>, visible: ReadonlySet<string>, context: object) => {
      const put = (path: string, body: Resource) => fhirClient(t, writer, headers).put(path, body);
      const del = (path: string) =>
        Object.entries({ Authorization: `Bearer ${writer}`, ...headers }).reduce((r, [k, v]) => r.set(k, v), t.http.delete(`/fhir/R4/${path}`));
      const answer = (res: { status: number; body: unknown }) => ({ status: res.status, body: res.status === 201 ? 'created' : res.body });
      const never = `never-stored-${seed}`;
      for (const fact of facts) {
        const [type = '', id = ''] = fact.ref.split('/');
        const body = upsertBody(type, fact.subject, fact.category);
        const overFact = { update: answer(await put(`${type}?_id=${id}`, body)), delete: answer(await del(`${type}?_id=${id}`)) };
        if (!visible.has(fact.ref)) {
          const overNothing = { update: answer(await put(`${type}?_id=${never}`, body)), delete: answer(await del(`${type}?_id=${never}`)) };
          expect({ ...context, conditional: fact.ref, ...overFact }).toEqual({ ...context, conditional: fact.ref, ...overNothing });
        }
        if (type !== 'Patient') {
          // A partner files nothing in a client's record this way (a Patient of its own it may create: no client's).
          expect({ ...context, conditional: fact.ref, update: overFact.update.status }).not.toEqual({ ...context, conditional: fact.ref, update: 201 });
        }
      }
      // Nothing changed: every generated resource is still at version 1 for its custodian.
      for (const fact of facts) {
        const res = await fhirClient(t, practiceToken).get(fact.ref);
        expect({ ...context, after: fact.ref, status: res.status, version: (res.body as Resource).meta?.versionId }).toEqual({ ...context, after: fact.ref, status: 200, version: '1' });
      }
    };

    const checkEveryone = async () => {
      for (const caller of callers) {
        caller.token = caller.renew ? await caller.renew() : caller.token;
        await checkCaller(caller, 'TREAT', (f) => expectedVisible(caller, f, consents, 'TREAT'), caller.name);
      }
      const [first] = callers as [CallerFact];
      first.token = first.renew ? await first.renew() : first.token;
      await checkCaller(first, 'HPAYMT', (f) => expectedVisible(first, f, consents, 'HPAYMT'), first.name);
      // The client: its own compartment, never a psychotherapy note.
      const own = ref(patients[0] as Patient);
      const self: CallerFact = { name: 'the client', token: clientToken, names: [] };
      await checkCaller(self, 'TREAT', (f) => f.clients.includes(own) && (f.type === 'Patient' || f.category !== NOTES), 'the client');
    };

    await checkEveryone();
    // Revoke a consent in force and check again: the permitted set shrinks on the very next request.
    const revoked = consents.find(inForce);
    if (revoked) {
      const current = (await fhirClient(t, practiceToken).get(`Consent/${revoked.id}`)).body as Consent;
      expect((await fhirClient(t, practiceToken).put(`Consent/${revoked.id}`, { ...current, status: 'inactive' })).status).toBe(200);
      revoked.active = false;
      await checkEveryone();
    }
  }, 300_000);
});
