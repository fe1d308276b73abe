import { computeCodeChallenge, isValidCodeChallenge, verifyCodeVerifier } from './pkce';

describe('PKCE S256', () => {
  // RFC 7636 appendix B.
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  test('computes the RFC 7636 example challenge', () => {
    expect(computeCodeChallenge(verifier)).toBe(challenge);
    expect(isValidCodeChallenge(challenge)).toBe(true);
  });

  test.each([
    ['the matching verifier', verifier, challenge, true],
    ['another verifier', `${verifier.slice(0, -1)}Y`, challenge, false],
    ['a verifier too short', 'short', computeCodeChallenge('short'), false],
    ['the challenge itself as verifier (plain method)', challenge, challenge, false],
    ['a malformed challenge', verifier, 'not-a-challenge', false],
  ])('%s', (_name, v, c, ok) => {
    expect(verifyCodeVerifier(v, c)).toBe(ok);
  });
});
