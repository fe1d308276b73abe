/**
 * This process's memory of access tokens it has verified: checking an ES384/RS384 signature was the largest single
 * cost of a read once the database's part had been cut (a tenth of the API's CPU under load). A token is remembered
 * with the key that verified it and the issuer and audience it was checked against; it is used again only while that
 * same key is still published (a withdrawn or rotated-out key drops every token it verified) and within the token's
 * lifetime, checked on every use against the clock. Whether its holder may still use it (client disabled, session
 * revoked) is not remembered here: authenticate-bearer.ts asks that on every request.
 */
import type { SigningKey } from './signing-keys';

/** How many tokens a process remembers; the oldest is forgotten first (access tokens live minutes). */
const MAX_REMEMBERED = 10_000;

export interface VerifiedToken<Claims> {
  readonly claims: Claims;
  /** The key that verified the signature, as the key ring holds it. */
  readonly key: SigningKey;
  readonly issuer: string;
  readonly audience: string;
}

export class VerifiedTokens<Claims> {
  private readonly remembered = new Map<string, VerifiedToken<Claims>>();

  get(token: string): VerifiedToken<Claims> | undefined {
    return this.remembered.get(token);
  }

  remember(token: string, verified: VerifiedToken<Claims>): void {
    if (this.remembered.size >= MAX_REMEMBERED) {
      const oldest = this.remembered.keys().next().value;
      if (oldest !== undefined) {
        this.remembered.delete(oldest);
      }
    }
    this.remembered.set(token, verified);
  }

  forget(token: string): void {
    this.remembered.delete(token);
  }
}
