/**
 * The compiled member paths yield exactly what @medplum/core's FHIRPath interpreter yields, for every supported search
 * parameter of every supported type they compile, on resources that fill each parameter's path (arrays with a
 * duplicate and an empty item, empty strings and objects on the way), and leave to the interpreter what they cannot.
 */
import { SUPPORTED_RESOURCE_TYPES } from '@carecircle/fhir';
import { evalFhirPathTyped, getElementDefinition, toTypedValue } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { buildObservation, buildPatient } from '@carecircle/testing';
import { compileMemberPaths } from './member-paths';
import { extractSearchIndex } from './search-index';
import { supportedSearchParameters, type SupportedSearchParameter } from './search-parameters';

type Json = Record<string, unknown>;

/** A value of `type` for a path's last element: what the interpreter hands on as is. */
function leaf(type: string, index: number): unknown {
  switch (type) {
    case 'boolean':
      return index % 2 === 0;
    case 'integer':
    case 'decimal':
    case 'positiveInt':
    case 'unsignedInt':
      return index + 1;
    case 'Reference':
      // Every shape resolve() reads: relative, absolute, conditional, by identifier, display only, local.
      return [
        { reference: `Patient/p${index}`, display: 'Someone' },
        { reference: `Practitioner/r${index}` },
        { reference: `https://example.org/fhir/Patient/p${index}` },
        { reference: `Patient?identifier=http://example.org|${index}` },
        { type: 'Patient', identifier: { system: 'http://example.org/mrn', value: `m${index}` } },
        { display: 'Someone' },
        { reference: '#contained' },
      ][index % 7];
    default:
      return /^[a-z]/.test(type) ? `v${index}` : { id: `e${index}` };
  }
}

/** Writes into `into` (rooted at `type`) values along `names`: two equal items and an empty one wherever an array may be. */
function fill(into: Json, type: string, names: readonly string[], index: number): void {
  const [name, ...rest] = names;
  const element = getElementDefinition(type, name!)!;
  const childType = element.type![0]!.code;
  const make = (i: number): unknown => {
    if (rest.length === 0) {
      return leaf(childType, i);
    }
    const child: Json = {};
    fill(child, childType, rest, i);
    return child;
  };
  if (element.isArray) {
    const existing = Array.isArray(into[name!]) ? (into[name!] as unknown[]) : [];
    const items = [make(index), make(index), ...[1, 2, 3, 4, 5, 6].map((step) => make(index + step))];
    into[name!] = [...existing, ...items, rest.length === 0 && /^[a-z]/.test(childType) ? '' : {}];
  } else if (into[name!] === undefined || rest.length === 0) {
    into[name!] = make(index);
  } else {
    fill(into[name!] as Json, childType, rest, index);
  }
}

function indexed(type: string): SupportedSearchParameter[] {
  return [...supportedSearchParameters(type).values()].filter((p) => p.source === 'indexed' && p.details);
}

/** The member paths of a parameter's expression rooted at `type` (with any `.where(...)` after them left off). */
function pathsOf(type: string, param: SupportedSearchParameter): string[][] {
  return [...param.details!.parsedExpression.toString().matchAll(/[A-Z][A-Za-z]*(?:\.[a-z][A-Za-z]*)+(?=\.where\(|[\s|)]|$)/g)]
    .map(([path]) => path.split('.'))
    .filter(([root]) => root === type)
    .map(([, ...names]) => names);
}

/** What the interpreter yields: each value and its type (the element path it also notes is read by nothing here). */
function interpreted(resource: Resource, param: SupportedSearchParameter) {
  return evalFhirPathTyped(param.details!.parsedExpression, [toTypedValue(resource)]).map(({ type, value }) => ({ type, value }));
}

describe('member paths', () => {
  test.each([...SUPPORTED_RESOURCE_TYPES])('%s: every parameter that compiles yields what the interpreter yields', (type) => {
    const params = indexed(type);
    const compiledParams = params.filter((p) => compileMemberPaths(type, p.details!.parsedExpression.toString()));
    // One resource filling one parameter's paths, and one filling them all (so unions meet each other's values).
    const all: Json = { resourceType: type, id: 'all' };
    const resources: Resource[] = [];
    compiledParams.forEach((param, i) => {
      const one: Json = { resourceType: type, id: `one-${i}` };
      for (const names of pathsOf(type, param)) {
        fill(one, type, names, i);
        fill(all, type, names, i);
      }
      resources.push(one as unknown as Resource);
    });
    resources.push(all as unknown as Resource, { resourceType: type, id: 'empty' } as Resource);
    for (const resource of resources) {
      for (const param of compiledParams) {
        const compiled = compileMemberPaths(type, param.details!.parsedExpression.toString())!;
        expect({ param: param.code, values: compiled(resource as unknown as Json) }).toEqual({ param: param.code, values: interpreted(resource, param) });
      }
    }
    expect(compiledParams.length).toBeGreaterThan(0);
  });

  test('most of what a write indexes compiles; where(), ofType() and choice elements do not', () => {
    const compiles = (type: string, code: string) => compileMemberPaths(type, supportedSearchParameters(type).get(code)!.details!.parsedExpression.toString()) !== undefined;
    expect(['entity', 'agent', 'type', 'subtype', 'date', 'outcome', 'site'].every((code) => compiles('AuditEvent', code))).toBe(true);
    expect(['family', 'given', 'name', 'identifier', 'organization'].every((code) => compiles('Patient', code))).toBe(true);
    expect(compiles('AuditEvent', 'patient')).toBe(true);
    expect(compiles('Observation', 'patient')).toBe(true);
    expect(compiles('Observation', 'value-concept')).toBe(false);
    expect(compiles('Patient', 'death-date')).toBe(false);
  });

  test('unions drop what they already hold, and empty values (\'\', [], {}) yield nothing, as in the interpreter', () => {
    const patients: Json[] = [
      { resourceType: 'Patient', id: 'a', name: [{ family: 'Ro' }, { family: 'Ro' }, { family: 'Li' }], gender: '', managingOrganization: {}, link: [] },
      { resourceType: 'Patient', id: 'b', name: [{}], generalPractitioner: [{ reference: 'Practitioner/1' }, {}, { reference: 'Organization/2' }], contact: [{ name: { family: '' } }] },
      { resourceType: 'Patient', id: 'c', link: [{ other: { reference: 'Patient/d' } }, { other: { reference: 'RelatedPerson/e' } }], managingOrganization: { reference: 'Organization/f' } },
    ];
    const expressions = [
      'Patient.name | Patient.name',
      'Patient.name.family | Patient.contact.name.family',
      'Patient.gender',
      'Patient.managingOrganization | Patient.generalPractitioner',
      'Patient.link.other',
      'Patient.contact.name.family',
      'Practitioner.name | Patient.name.family',
      'Patient.generalPractitioner.where(resolve() is Practitioner) | Patient.managingOrganization.where((resolve() is Organization))',
      '(Patient.link.other.where(resolve() is Patient) | Patient.generalPractitioner) | Patient.generalPractitioner.where(resolve() is Practitioner)',
    ];
    for (const expression of expressions) {
      const compiled = compileMemberPaths('Patient', expression)!;
      for (const patient of patients) {
        const expected = evalFhirPathTyped(expression, [toTypedValue(patient)]).map(({ type, value }) => ({ type, value }));
        expect({ expression, values: compiled(patient) }).toEqual({ expression, values: expected });
      }
    }
    // Equal strings are one value; equal names found at different places are two.
    expect(compileMemberPaths('Patient', 'Patient.name.family | Patient.name.family')!(patients[0]!)?.map((v) => v.value)).toEqual(['Ro', 'Li']);
    expect(compileMemberPaths('Patient', 'Patient.name | Patient.name')!(patients[0]!)).toHaveLength(3);
  });

  test('a reference carrying its resource inline is left to the interpreter', () => {
    const compiled = compileMemberPaths('Patient', 'Patient.generalPractitioner.where(resolve() is Practitioner)')!;
    expect(compiled({ resourceType: 'Patient', generalPractitioner: [{ resource: { resourceType: 'Practitioner' } }] })).toBeUndefined();
    expect(compiled({ resourceType: 'Patient', generalPractitioner: [{ reference: 'Practitioner/1' }] })).toHaveLength(1);
  });

  test('a value with primitive extensions on the way is left to the interpreter, and the index is the same', () => {
    const patient = buildPatient({ name: [{ family: 'Rivera', given: ['Ana'], _given: [{ extension: [{ url: 'http://example.org/x', valueString: 'y' }] }] } as never] });
    const given = supportedSearchParameters('Patient').get('given')!;
    expect(compileMemberPaths('Patient', given.details!.parsedExpression.toString())!(patient as unknown as Json)).toBeUndefined();
    expect(extractSearchIndex(patient).strings.filter((row) => row.code === 'given').map((row) => row.value)).toEqual(['Ana']);
  });

  test('the index of ordinary resources is what the interpreter gives, parameter by parameter', () => {
    for (const resource of [buildPatient(), buildObservation('p1')] as Resource[]) {
      for (const param of indexed(resource.resourceType)) {
        const compiled = compileMemberPaths(resource.resourceType, param.details!.parsedExpression.toString());
        if (compiled) {
          expect(compiled(resource as unknown as Json)).toEqual(interpreted(resource, param));
        }
      }
    }
  });
});
