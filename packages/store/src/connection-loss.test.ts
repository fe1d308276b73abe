import { isConnectionLoss } from './connection-loss';

/** An error as `pg` or Node reports it: a message, and a SQLSTATE or socket code. */
function failure(message: string, code?: string): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

describe('isConnectionLoss', () => {
  test.each([
    ['a backend terminated (pg_terminate_backend, a restart)', failure('terminating connection due to administrator command', '57P01')],
    ['a crash shutdown', failure('terminating connection because of crash of another server process', '57P02')],
    ['a server starting up or shutting down', failure('the database system is starting up', '57P03')],
    ['a connection exception (class 08)', failure('connection failure', '08006')],
    ['too many connections', failure('sorry, too many clients already', '53300')],
    ['a refused connect', failure('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['a reset socket', failure('read ECONNRESET', 'ECONNRESET')],
    ["pg's lost connection", failure('Connection terminated unexpectedly')],
    ["pg's connect timeout", failure('timeout exceeded when trying to connect')],
    ['a client used after its connection broke', failure('Client has encountered a connection error and is not queryable')],
    ['a refused connect tried on IPv4 and IPv6', new AggregateError([failure('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')])],
    ['a wrapped loss', new Error('wrapped', { cause: failure('Connection terminated unexpectedly') })],
  ])('%s is a lost connection', (_name, err) => {
    expect(isConnectionLoss(err)).toBe(true);
  });

  test.each([
    ['a unique violation', failure('duplicate key value violates unique constraint', '23505')],
    ['a cancelled statement (statement timeout)', failure('canceling statement due to statement timeout', '57014')],
    ['a syntax error', failure('syntax error at or near "SELEC"', '42601')],
    ['an error without a code', new Error('something else')],
    ['a value that is no error', 'ECONNREFUSED'],
    ['undefined', undefined],
  ])('%s is not', (_name, err) => {
    expect(isConnectionLoss(err)).toBe(false);
  });
});
