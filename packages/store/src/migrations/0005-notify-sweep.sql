-- The delivery sweeper (services/worker/src/delivery-sweeper.ts): what lets the worker notice work that Redis lost.
--
-- relayed_at says a change was put on the outbox-events queue; matched_at says its matching job finished (events
-- numbered, their delivery jobs enqueued) or that it needed none (the relay made no job of it). A row relayed a while
-- ago and still not matched had its job lost (Redis restarted without persistence, failover): the sweeper puts it on
-- the queue again, with the same job id. Matching is idempotent per (subscription, outbox event), so a second run of a
-- job that was not lost after all numbers nothing twice.
ALTER TABLE outbox ADD COLUMN matched_at timestamptz;

-- Rows relayed before this migration were matched by the jobs of their day; re-matching them now could tell
-- subscriptions created since of changes older than themselves.
UPDATE outbox SET matched_at = relayed_at WHERE relayed_at IS NOT NULL;

-- Only changes on their way through matching: normally a handful of rows.
CREATE INDEX outbox_unmatched ON outbox (relayed_at) WHERE relayed_at IS NOT NULL AND matched_at IS NULL;
