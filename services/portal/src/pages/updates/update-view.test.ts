/** The update's words in and out: a letter escaped into narrative and read back as text, the draft's shape, the view. */
import type { Composition, Condition } from '@medplum/fhirtypes';
import { sharingWords } from '../../i18n/sharing';
import { draftComposition, letterNarrative, narrativeParagraphs, updateView, UPDATE_STATE_URL } from './update-view';

test('a letter becomes escaped XHTML paragraphs, and reads back as the same text, markup and all as text', () => {
  const letter = 'Hello <b>there</b> & welcome\n\nSecond "paragraph"';
  const div = letterNarrative(letter);
  expect(div).toBe('<div xmlns="http://www.w3.org/1999/xhtml"><p>Hello &lt;b&gt;there&lt;/b&gt; &amp; welcome</p><p>Second &quot;paragraph&quot;</p></div>');
  expect(narrativeParagraphs(div)).toEqual(['Hello <b>there</b> & welcome', 'Second "paragraph"']);
});

test('a narrative written elsewhere is read as its text only: tags dropped, entities decoded, blocks split', () => {
  expect(narrativeParagraphs('<div xmlns="http://www.w3.org/1999/xhtml"><p>One<br/>two</p><ul><li>&#233;t&#xE9;</li></ul><script>x</script></div>')).toEqual([
    'One',
    'two',
    'été',
    'x',
  ]);
  expect(narrativeParagraphs(undefined)).toEqual([]);
});

test('the draft: recipient extension, preliminary, a letter section and one section per chosen category', () => {
  const draft = draftComposition({
    patient: 'Patient/p',
    author: 'Practitioner/t',
    custodian: 'Organization/practice',
    recipient: 'Organization/pt',
    title: 'Update',
    letter: 'Why I write',
    chosen: new Map([
      ['trauma-history', ['Condition/c']],
      ['progress', []],
    ]),
    categoryTitle: (c) => c.toUpperCase(),
    now: new Date('2026-12-07T10:00:00Z'),
  });
  expect(draft).toMatchObject({
    status: 'preliminary',
    subject: { reference: 'Patient/p' },
    author: [{ reference: 'Practitioner/t' }],
    custodian: { reference: 'Organization/practice' },
    extension: [{ url: 'https://carecircle.dev/fhir/StructureDefinition/update-recipient', valueReference: { reference: 'Organization/pt' } }],
  });
  expect(draft.section?.map((s) => s.code?.coding?.[0]?.code)).toEqual(['letter', 'trauma-history']);
  expect(draft.section?.[1]?.entry).toEqual([{ reference: 'Condition/c' }]);
});

test('the view reads the letter, each entry by the reference it names (frozen versions too), and the notice', () => {
  const update: Composition & { id: string } = {
    resourceType: 'Composition',
    id: 'u',
    status: 'final',
    type: {},
    date: '2026-12-07',
    author: [],
    title: 'x',
    extension: [{ url: UPDATE_STATE_URL, valueCode: 'released' }],
    section: [
      { code: { coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/update-section', code: 'letter' }] }, text: { status: 'generated', div: '<div><p>Dear colleague</p></div>' } },
      {
        code: { coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/share-category', code: 'trauma-history' }] },
        entry: [{ reference: 'Condition/c/_history/1' }, { reference: 'Condition/gone/_history/2' }],
      },
      { code: { coding: [{ system: 'https://carecircle.dev/fhir/CodeSystem/update-section', code: 'redisclosure-notice' }] }, text: { status: 'generated', div: '<div><p>Do not pass on.</p></div>' } },
    ],
  };
  const condition: Condition = { resourceType: 'Condition', id: 'c', subject: { reference: 'Patient/p' }, code: { text: 'Trauma summary' } };
  const view = updateView(update, new Map([['Condition/c/_history/1', condition]]), sharingWords.en, 'cannot be shown', 'en');
  expect(view.state).toBe('released');
  expect(view.letter).toEqual(['Dear colleague']);
  expect(view.notice).toEqual(['Do not pass on.']);
  expect(view.sections).toEqual([{ category: 'trauma-history', title: 'Trauma history', entries: [['Trauma summary'], ['cannot be shown']] }]);
});
