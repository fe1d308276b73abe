import { OperationOutcomeError, statusOf } from '@carecircle/fhir';
import type { Coding, Meta, Resource } from '@medplum/fhirtypes';
import { ACT_CODE_SYSTEM, CONFIDENTIALITY_SYSTEM, SHARE_CATEGORY_SYSTEM, type ShareCategory } from './share-category';
import { applyShareLabels, computeShareLabels, highestConfidentiality } from './share-labels';

const PATIENT_ID = 'p1';
const OTHER_SYSTEM = 'https://example.org/labels';

function categoryTag(code: string): Coding {
  return { system: SHARE_CATEGORY_SYSTEM, code };
}
function conf(code: string): Coding {
  return { system: CONFIDENTIALITY_SYSTEM, code };
}
function act(code: string): Coding {
  return { system: ACT_CODE_SYSTEM, code };
}

/** A resource of `type` in the client's compartment (or outside any, for directory types). */
function resourceOf(type: string, meta?: Meta): Resource {
  const subject = { reference: `Patient/${PATIENT_ID}` };
  const bodies: Record<string, Record<string, unknown>> = {
    Patient: { id: PATIENT_ID },
    Observation: { subject },
    Condition: { subject },
    Goal: { subject },
    CarePlan: { subject },
    Task: { for: subject },
    Consent: { patient: subject },
    AuditEvent: { entity: [{ what: subject }] },
    Organization: {},
    Practitioner: {},
  };
  const body = bodies[type];
  if (!body) {
    throw new Error(`no test body for ${type}`);
  }
  return { resourceType: type, ...body, ...(meta ? { meta } : {}) } as Resource;
}

function outcomeOf(fn: () => unknown): { status: number; expression: string[] | undefined } {
  try {
    fn();
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return { status: statusOf(err.outcome), expression: err.outcome.issue?.[0]?.expression };
    }
    throw err;
  }
  throw new Error('expected an OperationOutcomeError');
}

describe('computeShareLabels', () => {
  test.each<[string, ShareCategory]>([
    ['Patient', 'demographics'],
    ['Observation', 'progress'],
    ['Condition', 'presenting-concerns'],
    ['Goal', 'treatment-goals'],
    ['CarePlan', 'care-plan'],
    ['Task', 'care-plan'],
    ['Consent', 'demographics'],
    // A compartment type the defaults do not list gets 'progress'.
    ['AuditEvent', 'progress'],
  ])('a %s without a category gets the default %s and confidentiality R', (type, category) => {
    const labels = computeShareLabels(resourceOf(type), undefined);
    expect(labels?.category).toBe(category);
    expect(labels?.tag).toEqual([categoryTag(category)]);
    expect(labels?.security).toEqual([conf('R')]);
  });

  test.each<[ShareCategory, Coding[]]>([
    ['demographics', [conf('R')]],
    ['presenting-concerns', [conf('R')]],
    ['treatment-goals', [conf('R')]],
    ['care-plan', [conf('R')]],
    ['progress', [conf('R')]],
    ['trauma-history', [conf('V'), act('SDV')]],
    ['mental-health', [conf('R'), act('PSY')]],
    ['sexual-history', [conf('R'), act('SEX')]],
    ['medications', [conf('R')]],
    ['relationship-context', [conf('R')]],
    ['psychotherapy-notes', [conf('V'), act('PSYTHPN')]],
  ])('category %s carries its contract labels', (category, security) => {
    const labels = computeShareLabels(resourceOf('Observation', { tag: [categoryTag(category)] }), undefined);
    expect(labels?.category).toBe(category);
    expect(labels?.security).toEqual(security);
  });

  test.each<[string, Coding[], Coding[] | undefined, Coding[]]>([
    ['the writer raises confidentiality', [conf('V')], undefined, [conf('V')]],
    ['a writer cannot lower the category confidentiality', [conf('N')], undefined, [conf('R')]],
    ['the current version keeps confidentiality up', [], [conf('V')], [conf('V')]],
    ['several writer confidentialities collapse to the highest', [conf('L'), conf('V'), conf('M')], undefined, [conf('V')]],
    ['current sensitivities stay', [], [conf('R'), act('SEX')], [conf('R'), act('SEX')]],
    ['writer sensitivities are kept, sorted, without duplicates', [act('SEX'), act('PSY'), act('SEX')], undefined, [conf('R'), act('PSY'), act('SEX')]],
    ['other systems follow, as written, without duplicates', [{ system: OTHER_SYSTEM, code: 'b' }, conf('R'), { system: OTHER_SYSTEM, code: 'b' }, { system: OTHER_SYSTEM, code: 'a' }], undefined, [conf('R'), { system: OTHER_SYSTEM, code: 'b' }, { system: OTHER_SYSTEM, code: 'a' }]],
    ['other systems of the current version are not sticky', [], [conf('R'), { system: OTHER_SYSTEM, code: 'x' }], [conf('R')]],
  ])('progress: %s', (_name, written, currentSecurity, expected) => {
    const next = resourceOf('Observation', { tag: [categoryTag('progress')], security: written });
    const current = currentSecurity ? resourceOf('Observation', { tag: [categoryTag('progress')], security: currentSecurity }) : undefined;
    expect(computeShareLabels(next, current)?.security).toEqual(expected);
  });

  test('labels only go up across versions, even when the category changes', () => {
    const v1 = resourceOf('Observation', { tag: [categoryTag('mental-health')] });
    const v1Labels = computeShareLabels(v1, undefined);
    const stored = resourceOf('Observation', { tag: v1Labels?.tag, security: v1Labels?.security });
    const v2 = resourceOf('Observation', { tag: [categoryTag('sexual-history')], security: [conf('N')] });
    const v2Labels = computeShareLabels(v2, stored);
    expect(v2Labels?.category).toBe('sexual-history');
    expect(v2Labels?.security).toEqual([conf('R'), act('PSY'), act('SEX')]);
  });

  test.each<[ShareCategory, ShareCategory]>([
    ['psychotherapy-notes', 'progress'],
    ['psychotherapy-notes', 'trauma-history'],
    ['psychotherapy-notes', 'demographics'],
    ['trauma-history', 'progress'],
    ['trauma-history', 'mental-health'],
    ['mental-health', 'progress'],
    ['sexual-history', 'care-plan'],
  ])('a resource in %s cannot move to the less sensitive %s (422)', (from, to) => {
    const current = resourceOf('Observation', { tag: [categoryTag(from)], security: computeShareLabels(resourceOf('Observation', { tag: [categoryTag(from)] }), undefined)?.security });
    const next = resourceOf('Observation', { tag: [categoryTag(to)] });
    expect(outcomeOf(() => computeShareLabels(next, current))).toEqual({ status: 422, expression: ['Observation.meta.tag'] });
  });

  test.each<[ShareCategory, ShareCategory, string[]]>([
    ['progress', 'mental-health', ['R', 'PSY']],
    ['progress', 'care-plan', ['R']],
    ['mental-health', 'trauma-history', ['V', 'PSY', 'SDV']],
    ['trauma-history', 'psychotherapy-notes', ['V', 'PSYTHPN', 'SDV']],
    ['psychotherapy-notes', 'psychotherapy-notes', ['V', 'PSYTHPN']],
  ])('a resource in %s may move to %s (as or more sensitive)', (from, to, codes) => {
    const fromLabels = computeShareLabels(resourceOf('Observation', { tag: [categoryTag(from)] }), undefined);
    const current = resourceOf('Observation', { tag: fromLabels?.tag, security: fromLabels?.security });
    const labels = computeShareLabels(resourceOf('Observation', { tag: [categoryTag(to)] }), current);
    expect(labels?.category).toBe(to);
    expect(labels?.security?.map((c) => c.code)).toEqual(codes);
  });

  test('a psychotherapy note written without a category stays a psychotherapy note', () => {
    const current = resourceOf('Observation', { tag: [categoryTag('psychotherapy-notes')], security: [conf('V'), act('PSYTHPN')] });
    expect(computeShareLabels(resourceOf('Observation'), current)?.category).toBe('psychotherapy-notes');
  });

  test.each<[string, Meta | undefined, number | ShareCategory]>([
    ['no category', undefined, 'demographics'],
    ['its own category', { tag: [categoryTag('demographics')] }, 'demographics'],
    ['psychotherapy notes', { tag: [categoryTag('psychotherapy-notes')] }, 400],
    ['progress', { tag: [categoryTag('progress')] }, 400],
  ])('a Consent with %s: %s', (_name, meta, expected) => {
    const consent = resourceOf('Consent', meta);
    if (typeof expected === 'number') {
      expect(outcomeOf(() => computeShareLabels(consent, undefined))).toEqual({ status: expected, expression: ['Consent.meta.tag'] });
    } else {
      expect(computeShareLabels(consent, undefined)?.category).toBe(expected);
    }
  });

  test.each<[string, ShareCategory[], ShareCategory, string[]]>([
    ['takes the category and labels of a psychotherapy note it describes', ['psychotherapy-notes', 'demographics'], 'psychotherapy-notes', ['V', 'PSYTHPN']],
    ['takes the most sensitive of several', ['mental-health', 'trauma-history', 'progress'], 'trauma-history', ['V', 'PSY', 'SDV']],
    ['keeps its own category when what it describes is no more sensitive', ['treatment-goals', 'demographics'], 'progress', ['R']],
  ])('a Provenance %s', (_name, described, category, codes) => {
    const metas = described.map((c) => {
      const labels = computeShareLabels(resourceOf('Observation', { tag: [categoryTag(c)] }), undefined);
      return { tag: labels?.tag, security: labels?.security } as Meta;
    });
    const provenance = { resourceType: 'Provenance', target: [{ reference: `Patient/${PATIENT_ID}` }] } as Resource;
    const labels = computeShareLabels(provenance, undefined, metas);
    expect(labels?.category).toBe(category);
    expect(labels?.security?.map((c) => c.code)).toEqual(codes);
  });

  test('a write without a category keeps the current version\'s category rather than the default', () => {
    const current = resourceOf('Observation', { tag: [categoryTag('trauma-history')], security: [conf('V'), act('SDV')] });
    const labels = computeShareLabels(resourceOf('Observation'), current);
    expect(labels?.category).toBe('trauma-history');
    expect(labels?.security).toEqual([conf('V'), act('SDV')]);
  });

  test('other tags are kept after the category tag', () => {
    const other = { system: OTHER_SYSTEM, code: 'imported' };
    const labels = computeShareLabels(resourceOf('Observation', { tag: [other, categoryTag('medications')] }), undefined);
    expect(labels?.tag).toEqual([categoryTag('medications'), other]);
  });

  test.each<[string, Resource]>([
    ['two categories', resourceOf('Observation', { tag: [categoryTag('progress'), categoryTag('mental-health')] })],
    ['the same category twice', resourceOf('Observation', { tag: [categoryTag('progress'), categoryTag('progress')] })],
    ['an unknown category', resourceOf('Observation', { tag: [categoryTag('gossip')] })],
    ['a category tag without code', resourceOf('Observation', { tag: [{ system: SHARE_CATEGORY_SYSTEM }] })],
  ])('%s is a 400 naming Observation.meta.tag', (_name, resource) => {
    expect(outcomeOf(() => computeShareLabels(resource, undefined))).toEqual({ status: 400, expression: ['Observation.meta.tag'] });
  });

  test('an unknown confidentiality code from the writer is a 400 naming meta.security', () => {
    const resource = resourceOf('Observation', { security: [conf('X')] });
    expect(outcomeOf(() => computeShareLabels(resource, undefined))).toEqual({ status: 400, expression: ['Observation.meta.security'] });
  });

  test.each(['Organization', 'Practitioner'])('a %s (no compartment) is left alone', (type) => {
    const meta: Meta = { security: [conf('N')], tag: [{ system: OTHER_SYSTEM, code: 'x' }] };
    expect(computeShareLabels(resourceOf(type, meta), undefined)).toBeUndefined();
  });

  test.each(['Organization', 'Practitioner'])('a share category on a %s is a 400', (type) => {
    const resource = resourceOf(type, { tag: [categoryTag('progress')] });
    expect(outcomeOf(() => computeShareLabels(resource, undefined))).toEqual({ status: 400, expression: [`${type}.meta.tag`] });
  });
});

describe('applyShareLabels', () => {
  test('writes the labels into meta and keeps the rest of meta', async () => {
    const next = resourceOf('Observation', { versionId: '2', profile: ['http://example.org/p'], tag: [categoryTag('mental-health')] });
    await applyShareLabels(next, undefined, { query: () => Promise.reject(new Error('no queries expected')) });
    expect(next.meta).toEqual({
      versionId: '2',
      profile: ['http://example.org/p'],
      tag: [categoryTag('mental-health')],
      security: [conf('R'), act('PSY')],
    });
  });

  test('leaves a resource outside any compartment untouched', async () => {
    const next = resourceOf('Organization');
    await applyShareLabels(next, undefined, { query: () => Promise.reject(new Error('no queries expected')) });
    expect(next).toEqual({ resourceType: 'Organization' });
  });

  describe('a record of what it describes takes the labels of the versions the writer holds, and reads the rest', () => {
    const note: Meta = { versionId: '2', tag: [categoryTag('mental-health')], security: [conf('R'), act('PSY')] };
    const patient: Meta = { versionId: '7', tag: [categoryTag('demographics')], security: [conf('N')] };
    const event = (): Resource => ({
      resourceType: 'AuditEvent',
      entity: [{ what: { reference: `Patient/${PATIENT_ID}` } }, { what: { reference: 'Observation/o1/_history/2' } }],
    }) as Resource;
    /** A transaction that answers the labels look-up with `metas` and keeps the references it was asked about. */
    function lookUp(metas: Meta[], asked: unknown[][]) {
      return {
        query: async <R>(statement: { render(): { values: unknown[] } }) => {
          asked.push(statement.render().values);
          return { rows: metas.map((meta) => ({ meta })) as R[], rowCount: metas.length };
        },
      };
    }

    test('all held: nothing is read, and the record carries the most sensitive of them', async () => {
      const next = event();
      const held = [
        { resourceType: 'Observation', id: 'o1', meta: note },
        { resourceType: 'Patient', id: PATIENT_ID, meta: patient },
      ] as Resource[];
      await applyShareLabels(next, undefined, { query: () => Promise.reject(new Error('no queries expected')) }, { revives: false, alongside: () => undefined, held });
      expect(next.meta).toEqual({ tag: [categoryTag('mental-health')], security: [conf('R'), act('PSY')] });
    });

    test('a held version other than the one named, and a resource not held, are read', async () => {
      const asked: unknown[][] = [];
      const next = event();
      const held = [{ resourceType: 'Observation', id: 'o1', meta: { ...note, versionId: '1' } }] as Resource[];
      await applyShareLabels(next, undefined, lookUp([patient, note], asked), { revives: false, alongside: () => undefined, held });
      expect(asked).toEqual([[['Patient', 'Observation'], [PATIENT_ID, 'o1']]]);
      expect(next.meta).toEqual({ tag: [categoryTag('mental-health')], security: [conf('R'), act('PSY')] });
    });

    test('without held versions, every described resource is read, as before', async () => {
      const asked: unknown[][] = [];
      await applyShareLabels(event(), undefined, lookUp([patient, note], asked));
      expect(asked).toEqual([[['Patient', 'Observation'], [PATIENT_ID, 'o1']]]);
    });
  });
});

describe('highestConfidentiality', () => {
  test.each<[Array<string | undefined>, string]>([
    [[], 'U'],
    [['L', 'U'], 'L'],
    [['N', 'M'], 'N'],
    [['R', 'N', undefined, 'bogus'], 'R'],
    [['V', 'R'], 'V'],
  ])('%j -> %s', (codes, expected) => {
    expect(highestConfidentiality(codes)).toBe(expected);
  });
});
