import { findJwksUriProblem } from './remote-jwks';

describe('findJwksUriProblem', () => {
  const production = { allowLoopback: false };
  const development = { allowLoopback: true };
  test.each<[string, typeof production, boolean]>([
    ['https://partner.example/jwks.json', production, true],
    ['https://8.8.8.8/jwks.json', production, true],
    ['http://partner.example/jwks.json', production, false],
    ['https://127.0.0.1/jwks.json', production, false],
    ['https://localhost/jwks.json', production, false],
    ['http://127.0.0.1:8080/jwks.json', development, true],
    ['http://[::1]:8080/jwks.json', development, true],
    ['http://localhost:8080/jwks.json', development, true],
    ['https://169.254.169.254/jwks.json', development, false],
    ['https://10.0.0.1/jwks.json', development, false],
    ['http://partner.example/jwks.json', development, false],
    ['https://u:p@partner.example/jwks.json', development, false],
    ['https://partner.example/jwks.json#k', development, false],
    ['not a url', development, false],
  ])('%s (loopback allowed: %o) acceptable: %s', (uri, rules, acceptable) => {
    expect(findJwksUriProblem(uri, rules) === undefined).toBe(acceptable);
  });
});
