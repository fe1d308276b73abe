/**
 * Whether an access token's holders are enabled ({@link areTokenHoldersEnabled}), remembered per token between
 * requests instead of asked of the database on every one: that statement was one of a custodian's two round trips per
 * read. Disabling and revocation still take effect on the very next request:
 *
 * - every change to the tables the answer depends on notifies `token_holders` when it commits (migration 0016's
 *   triggers, whoever writes), and every process forgets all it remembered when the notification arrives;
 * - this process's own changes (the store functions that write those tables call `tokenHoldersChanged` once
 *   their statement is done) forget at once, before the request that made them answers;
 * - only "enabled" is remembered, tagged with the generation it was asked in, and only while the listener is
 *   connected: an answer asked before a change is never kept after it, and while the listening connection is away
 *   (notifications would be lost) every request asks the database, as before.
 *
 * Between another replica's commit and the arrival of its notification (well under a millisecond on one network) a
 * request already on its way may still pass: the same window a request in flight has anyway.
 */
import type { Database, Listener } from '../database';
import { areTokenHoldersEnabled, type TokenHolder } from './auth-sessions';
import { tokenHolderGeneration, tokenHoldersChanged } from './token-holder-generation';

/** Tokens remembered at most; past it the memory starts afresh (a bound, not an expiry). */
const MAX_REMEMBERED = 10_000;

export interface TokenHolderCheck {
  isEnabled(holder: TokenHolder): Promise<boolean>;
  close(): Promise<void>;
}

/** Starts listening for changes; resolves once listening (remembering starts then). */
export async function createTokenHolderCheck(db: Database): Promise<TokenHolderCheck> {
  let listening = false;
  const remembered = new Map<string, number>();
  const listener: Listener = await db.listen(
    'token_holders',
    () => {
      // A change, or the listener back after a loss (it calls this once it listens again).
      tokenHoldersChanged();
      listening = true;
    },
    () => {
      listening = false;
      tokenHoldersChanged();
    },
  );
  listening = true;
  return {
    async isEnabled(holder) {
      const key = `${holder.clientId}\u0000${holder.userId ?? ''}\u0000${holder.issuedAt ?? ''}\u0000${holder.sessionId ?? ''}`;
      const asked = tokenHolderGeneration();
      if (listening && remembered.get(key) === asked) {
        return true;
      }
      const enabled = await areTokenHoldersEnabled(db, holder);
      if (enabled && listening && tokenHolderGeneration() === asked) {
        if (remembered.size >= MAX_REMEMBERED) {
          remembered.clear();
        }
        remembered.set(key, asked);
      }
      return enabled;
    },
    async close() {
      listening = false;
      remembered.clear();
      await listener.close();
    },
  };
}
