/** The partners' figures as Task/$referral-metrics names them; a figure it leaves out stays unknown. */
import type { Organization, Parameters } from '@medplum/fhirtypes';
import { metricsView } from './practice-loader';

test('reads each organization part by the contract names, naming the partner from the directory', () => {
  const parameters: Parameters = {
    resourceType: 'Parameters',
    parameter: [
      {
        name: 'organization',
        part: [
          { name: 'organization', valueReference: { reference: 'Organization/o' } },
          { name: 'referrals', valueInteger: 9 },
          { name: 'acknowledged', valueInteger: 4 },
          { name: 'acknowledgement-median-hours', valueDecimal: 5.25 },
          { name: 'acknowledgement-p90-hours', valueDecimal: 30 },
          { name: 'overdue-share', valueDecimal: 0.25 },
        ],
      },
      { name: 'something-else', valueString: 'ignored' },
    ],
  };
  const known: Organization[] = [{ resourceType: 'Organization', id: 'o', name: 'Harbour Clinic' }];
  expect(metricsView(parameters, known)).toEqual([
    {
      partnerName: 'Harbour Clinic',
      referrals: 9,
      ackMedianHours: 5.25,
      ackP90Hours: 30,
      completionMedianHours: undefined,
      completionP90Hours: undefined,
      shareOverdue: 0.25,
    },
  ]);
});
