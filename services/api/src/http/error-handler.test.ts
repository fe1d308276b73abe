import { databaseUnavailable, OperationOutcomeError, statementTimeout } from '@carecircle/fhir';
import { errorToOutcome } from './error-handler';

/** An error as `pg` or Node reports it: a message, and a SQLSTATE or socket code. */
function failure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('errorToOutcome: a database that went away is a 503 to retry, never a 500', () => {
  test.each([
    ["pg's lost connection", failure('Connection terminated unexpectedly')],
    ['a terminated backend (57P01)', failure('terminating connection due to administrator command', '57P01')],
    ['a server starting up (57P03)', failure('the database system is starting up', '57P03')],
    ['a connection exception (08006)', failure('connection failure', '08006')],
    ['a refused connect', failure('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset socket', failure('read ECONNRESET', 'ECONNRESET')],
  ])('%s reaching the handler unconverted: 503 transient', (_name, err) => {
    const mapped = errorToOutcome(err);
    expect({ status: mapped.status, code: mapped.body.issue?.[0]?.code }).toEqual({ status: 503, code: 'transient' });
    // The generic text only: a driver's message may name hosts or quote a statement.
    expect(JSON.stringify(mapped.body)).not.toMatch(/ECONN|127\.0\.0\.1|administrator/);
  });

  test('the store\'s own conversions keep their outcome and 503', () => {
    expect(errorToOutcome(new OperationOutcomeError(databaseUnavailable())).status).toBe(503);
    expect(errorToOutcome(new OperationOutcomeError(statementTimeout())).body.issue?.[0]?.code).toBe('timeout');
  });

  test('other database errors stay what they were', () => {
    expect(errorToOutcome(failure('syntax error', '42601')).status).toBe(500);
  });
});
