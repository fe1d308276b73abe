/**
 * The R4 rules @medplum/core's validator leaves out, through validateFhirResource: each broken rule is a 400 naming the
 * element, and the valid counterpart passes.
 */
import { OperationOutcomeError } from '@medplum/core';
import { statusOf } from './outcome-status';
import type { Resource } from '@medplum/fhirtypes';
import { validateFhirResource, validateFhirStructure } from './validation';

const XHTML = 'http://www.w3.org/1999/xhtml';

/** `[expression, text]` of each error validateFhirResource reports for `resource`. */
function errorsOf(resource: unknown): Array<[string | undefined, string | undefined]> {
  try {
    validateFhirResource(resource as Resource);
    return [];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) {
      throw err;
    }
    expect(statusOf(err.outcome)).toBe(400);
    return (err.outcome.issue ?? []).map((issue) => [issue.expression?.[0], issue.details?.text]);
  }
}

function basic(extra: Record<string, unknown>): Record<string, unknown> {
  return { resourceType: 'Basic', code: { text: 'note' }, ...extra };
}

function narrative(div: string): Record<string, unknown> {
  return basic({ text: { status: 'generated', div } });
}

describe('data type invariants inside resources', () => {
  test.each<[string, unknown, string]>([
    ['per-1: a Period ending before it starts', basic({ identifier: [{ period: { start: '2025-02-01', end: '2025-01-01' } }] }), 'Basic.identifier[0].period'],
    ['cpt-2: a ContactPoint value without a system', { resourceType: 'Organization', name: 'Clinic', telecom: [{ value: '555-0100' }] }, 'Organization.telecom[0]'],
    ['qty-3: a Quantity code without a system', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, code: 'mg' } }, 'Observation.valueQuantity'],
    ['ext-1: an extension with both a value and extensions', basic({ extension: [{ url: 'https://e.example', valueString: 'v', extension: [{ url: 'a', valueBoolean: true }] }] }), 'Basic.extension[0]'],
    ['ref-1: a local reference to nothing contained', basic({ author: { reference: '#missing' } }), 'Basic.author'],
    ['dom-3: a contained resource nothing refers to', basic({ contained: [{ resourceType: 'Practitioner', id: 'p' }] }), 'Basic.contained[0]'],
    ['a javascript: URL as a reference', basic({ author: { reference: 'javascript:alert(1)' } }), 'Basic.author.reference'],
    ['a javascript: URL as an Attachment url', { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { url: ' JavaScript:alert(1)' } }] }, 'DocumentReference.content[0].attachment.url'],
    ['a vbscript: URL as an extension url', basic({ extension: [{ url: 'vbscript:x', valueString: 'v' }] }), 'Basic.extension[0].url'],
    ['a data: URL as a reference', basic({ author: { reference: 'data:text/html,<script>x</script>' } }), 'Basic.author.reference'],
    ['a search outside a transaction', basic({ author: { reference: 'Practitioner?identifier=x' } }), 'Basic.author.reference'],
    ['a path that is no Type/id', basic({ author: { reference: 'Practitioner/a/b' } }), 'Basic.author.reference'],
    ['a reference inside a contained resource', basic({ author: { reference: '#p' }, contained: [{ resourceType: 'PractitionerRole', id: 'p', practitioner: { reference: 'vbscript:x' } }] }), 'Basic.contained[0].practitioner.reference'],
  ])('%s is refused, naming the element', (_name, resource, expression) => {
    expect(errorsOf(resource).map(([path]) => path)).toContain(expression);
  });

  test.each<[string, unknown]>([
    ['a Period with start and end of different precision', basic({ identifier: [{ period: { start: '2025-01-01', end: '2025-01-01T10:00:00Z' } }] })],
    ['a ContactPoint with its system', { resourceType: 'Organization', name: 'Clinic', telecom: [{ system: 'phone', value: '555-0100' }] }],
    ['a UCUM Quantity', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, valueQuantity: { value: 1, code: 'mg', system: 'http://unitsofmeasure.org' } }],
    ['a referenced contained resource', basic({ author: { reference: '#p' }, contained: [{ resourceType: 'Practitioner', id: 'p' }] })],
    ['a reference with only a display', basic({ author: { display: 'Dr Who' } })],
    ['relative, versioned, absolute, urn:uuid and urn:oid references', basic({ author: { reference: 'Practitioner/p1/_history/2' }, subject: { reference: 'https://other.example/fhir/Patient/9' }, identifier: [{ assigner: { reference: 'urn:uuid:0b3c5e8a-1b2c-4d5e-8f90-123456789abc' } }, { assigner: { reference: 'urn:oid:1.2.840.10008' } }] })],
    ['an extension on a primitive', { resourceType: 'Patient', _gender: { extension: [{ url: 'https://e.example', valueString: 'v' }] } }],
    ['text with a surrogate pair (an emoji)', basic({ code: { text: 'feeling \u{1F600}' } })],
  ])('%s passes', (_name, resource) => {
    expect(errorsOf(resource)).toEqual([]);
  });
});

describe('values FHIR JSON forbids, and text the database cannot store', () => {
  test.each<[string, unknown, string]>([
    ['an empty string', { resourceType: 'Patient', name: [{ family: '' }] }, 'Patient.name[0].family'],
    ['an empty code', { resourceType: 'Patient', gender: '' }, 'Patient.gender'],
    ['an empty array', { resourceType: 'Patient', identifier: [] }, 'Patient.identifier'],
    ['an empty object', { resourceType: 'Patient', maritalStatus: {} }, 'Patient.maritalStatus'],
    ['an unpaired surrogate', basic({ code: { text: 'a\ud800b' } }), 'Basic.code.text'],
    ['NUL, even where the type allows any non-space', basic({ code: { coding: [{ system: 'https://x.example/\u0000', code: 'a' }] } }), 'Basic.code.coding[0].system'],
  ])('%s is refused, naming the element', (_name, resource, expression) => {
    expect(errorsOf(resource).map(([path]) => path)).toEqual([expression]);
  });
});

describe('narrative (txt-1, txt-2)', () => {
  test.each<[string, string]>([
    ['plain text', 'hello'],
    ['no XHTML namespace', '<div><p>hi</p></div>'],
    ['a script', `<div xmlns="${XHTML}"><script>alert(1)</script></div>`],
    ['an event handler', `<div xmlns="${XHTML}"><p onclick="alert(1)">hi</p></div>`],
    ['a javascript: link', `<div xmlns="${XHTML}"><a href="javascript:alert(1)">hi</a></div>`],
    ['a javascript: link hidden behind references and whitespace', `<div xmlns="${XHTML}"><a href=" jav&#x61;&#9;script:alert(1)">hi</a></div>`],
    ['a data: link', `<div xmlns="${XHTML}"><a href="data:text/html,x">hi</a></div>`],
    ['a style that loads something', `<div xmlns="${XHTML}"><p style="background:url(https://x.example/t)">hi</p></div>`],
    ['an iframe', `<div xmlns="${XHTML}"><iframe src="https://x.example"></iframe></div>`],
    ['no content', `<div xmlns="${XHTML}">  </div>`],
    ['mismatched tags', `<div xmlns="${XHTML}"><b>hi</i></div>`],
    ['content after the root', `<div xmlns="${XHTML}">hi</div><script/>`],
    ['a bare ampersand', `<div xmlns="${XHTML}">you & me</div>`],
    ['an unquoted attribute', `<div xmlns="${XHTML}"><p class=x>hi</p></div>`],
    ['a CDATA section', `<div xmlns="${XHTML}"><![CDATA[<script>x</script>]]></div>`],
  ])('%s is refused at Basic.text.div', (_name, div) => {
    const errors = errorsOf(narrative(div));
    expect(errors.map(([path]) => path)).toEqual(['Basic.text.div']);
  });

  test('inside a contained resource too', () => {
    const resource = basic({ author: { reference: '#p' }, contained: [{ resourceType: 'Practitioner', id: 'p', text: { status: 'generated', div: '<b>x</b>' } }] });
    expect(errorsOf(resource).map(([path]) => path)).toEqual(['Basic.contained[0].text.div']);
  });

  test('allowed formatting, links, images, entities and comments pass', () => {
    const div =
      `<div xmlns="${XHTML}"><!-- generated --><h1 class="t">Summary</h1><p style="color: red">A &amp; B&nbsp;&#169;<br/>` +
      `<a href="https://carecircle.example/x?a=1&amp;b=2">link</a> <a href="#s2">here</a></p>` +
      `<table><tr><td colspan="2">cell</td></tr></table><img src="data:image/png;base64,iVBORw0KGgo=" alt="x"/></div>`;
    expect(errorsOf(narrative(div))).toEqual([]);
  });
});

describe('malformed shapes', () => {
  test.each<[string, unknown]>([
    ['meta as a string', basic({ meta: 'x' })],
    ['meta.tag as a string', basic({ meta: { tag: 'x' } })],
    ['a coding list as a string', { resourceType: 'Patient', maritalStatus: { coding: 'x' } }],
    ['a Period as a string', basic({ identifier: [{ period: 'x' }] })],
    ['a profile as a number', basic({ meta: { profile: [5] } })],
    ['a primitive extension element as a string', { resourceType: 'Patient', _birthDate: 'x' }],
    ['a primitive extension list holding a number', { resourceType: 'Patient', name: [{ given: ['a'], _given: [5] }] }],
    ['a primitive extension element as a number, beside no value', { resourceType: 'Observation', _status: 5 }],
    ['Subscription criteria as a number, a header as a number', { resourceType: 'Subscription', status: 'requested', reason: 'r', criteria: 5, channel: { type: 'rest-hook', header: [5] } }],
  ])('%s is a 400, never an exception', (_name, resource) => {
    expect(errorsOf(resource).length).toBeGreaterThan(0);
  });

  test('nesting beyond the limit is a 400 before any recursive walk', () => {
    let deep: unknown = { url: 'https://e.example', valueString: 'v' };
    for (let i = 0; i < 100_000; i++) {
      deep = { url: 'https://e.example', extension: [deep] };
    }
    expect(errorsOf(basic({ extension: [deep] }))).toEqual([['Basic', 'The resource nests more than 128 levels deep']]);
  });

  test('validateFhirStructure ignores claimed profiles but checks everything else', () => {
    const resource = { ...basic({}), meta: { profile: ['https://unknown.example/StructureDefinition/x'] } } as Resource;
    expect(validateFhirStructure(resource)).toEqual([]);
    expect(errorsOf(resource).map(([path]) => path)).toEqual(['Basic.meta.profile[0]']);
    expect(() => validateFhirStructure({ resourceType: 'Patient', gender: '' } as unknown as Resource)).toThrow(OperationOutcomeError);
  });
});
