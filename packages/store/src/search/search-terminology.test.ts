import { OperationOutcomeError } from '@medplum/core';
import { thrownStatus } from '@carecircle/testing';
import { subsumptionCodes, valueSetCodes } from './search-terminology';

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const SHARE = 'https://carecircle.dev/fhir/CodeSystem/share-category';

/** The text of the OperationOutcome `call` throws. */
function refusalText(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (err) {
    return err instanceof OperationOutcomeError ? err.outcome.issue?.[0]?.details?.text : undefined;
  }
}

const codes = (list: Array<{ system: string; code: string }>) => list.map((c) => `${c.system}|${c.code}`).sort();

describe('valueSetCodes', () => {
  test('expands our ValueSet and an R4 one, a |version suffix ignored', () => {
    expect(codes(valueSetCodes('code', 'https://carecircle.dev/fhir/ValueSet/share-category'))).toContain(`${SHARE}|progress`);
    expect(codes(valueSetCodes('gender', 'http://hl7.org/fhir/ValueSet/administrative-gender|4.0.1'))).toEqual(
      ['female', 'male', 'other', 'unknown'].map((c) => `http://hl7.org/fhir/administrative-gender|${c}`),
    );
  });

  test('a ValueSet unknown or not expandable here is a 400 naming it', () => {
    expect(thrownStatus(() => valueSetCodes('code', 'https://example.org/ValueSet/none'))).toBe(400);
    // SNOMED CT is not held locally: a value set drawing on it cannot be expanded.
    expect(thrownStatus(() => valueSetCodes('code', 'http://hl7.org/fhir/ValueSet/clinical-findings'))).toBe(400);
    expect(refusalText(() => valueSetCodes('code', 'https://example.org/ValueSet/none'))).toContain('https://example.org/ValueSet/none');
  });
});

describe('subsumptionCodes', () => {
  test('below: the code and its descendants, transitively, through nested concepts', () => {
    const below = codes(subsumptionCodes('code', 'below', `${ACT_CODE}|_InformationSensitivityPolicy`));
    expect(below).toEqual(expect.arrayContaining([`${ACT_CODE}|_InformationSensitivityPolicy`, `${ACT_CODE}|PSY`, `${ACT_CODE}|SEX`, `${ACT_CODE}|ETH`]));
    expect(below).not.toContain(`${ACT_CODE}|OPTIN`);
    expect(codes(subsumptionCodes('code', 'below', `${ACT_CODE}|PSY`))).toEqual([`${ACT_CODE}|PSY`]);
  });

  test('above: the code and its ancestors', () => {
    const above = codes(subsumptionCodes('code', 'above', `${ACT_CODE}|PSY`));
    expect(above).toEqual(expect.arrayContaining([`${ACT_CODE}|PSY`, `${ACT_CODE}|SPI`, `${ACT_CODE}|_InformationSensitivityPolicy`]));
    expect(above).not.toContain(`${ACT_CODE}|SEX`);
  });

  test('a flat CodeSystem subsumes each code by itself only; an unknown code matches only itself', () => {
    expect(codes(subsumptionCodes('_tag', 'below', `${SHARE}|progress`))).toEqual([`${SHARE}|progress`]);
    expect(codes(subsumptionCodes('_tag', 'above', `${SHARE}|no-such-code`))).toEqual([`${SHARE}|no-such-code`]);
  });

  test('no system, or a CodeSystem without a complete hierarchy here, is a 400', () => {
    expect(thrownStatus(() => subsumptionCodes('code', 'below', 'PSY'))).toBe(400);
    expect(thrownStatus(() => subsumptionCodes('code', 'below', '|PSY'))).toBe(400);
    expect(thrownStatus(() => subsumptionCodes('code', 'below', `${ACT_CODE}|`))).toBe(400);
    expect(thrownStatus(() => subsumptionCodes('code', 'below', 'http://snomed.info/sct|404684003'))).toBe(400);
    expect(refusalText(() => subsumptionCodes('code', 'below', 'http://snomed.info/sct|404684003'))).toContain('http://snomed.info/sct');
  });
});
