-- Subscriptions (packages/notify, services/worker): the subscribers' signing secrets, each subscription's numbered
-- events, and its delivery cursor.
--
-- Event numbers per subscription have no gaps: the counter (subscription_event_counter) is locked and advanced in the
-- same transaction as the event insert. It is a table of its own so that numbering never waits for delivery's
-- frequent updates of the cursor and lease. An outbox event becomes at most one event per subscription
-- (unique on subscription + outbox event), so re-running a matching job numbers nothing twice. Delivery is ordered by
-- event number: every event up to delivered_through is settled; a worker may deliver only while it holds the lease.

-- The secret a subscriber signs with, moved out of the Subscription resource by the write rule (never returned). It is
-- needed in the clear to compute HMACs, so it is stored as given; the table is read only by the worker.
CREATE TABLE subscription_secret (
  subscription_id text        PRIMARY KEY,
  secret          text        NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subscription_event_counter (
  subscription_id   text   PRIMARY KEY,
  -- Events numbered so far: the SubscriptionStatus events-since-subscription-start.
  last_event_number bigint NOT NULL DEFAULT 0
);

CREATE TABLE subscription_delivery (
  subscription_id      text        PRIMARY KEY,
  -- Every event with a number up to this one is settled (delivered, withheld, or dead-lettered).
  delivered_through    bigint      NOT NULL DEFAULT 0,
  -- Failed attempts in a row (any event); the subscription turns `error` past a threshold and `active` on a success.
  consecutive_failures integer     NOT NULL DEFAULT 0,
  -- The delivery lease: only the holder sends this subscription's events, so they go out one at a time, in order.
  lease_owner          text,
  lease_until          timestamptz,
  last_delivered_at    timestamptz
);

CREATE TABLE subscription_event (
  subscription_id text        NOT NULL,
  event_number    bigint      NOT NULL,
  -- Stable across retries of this event: the X-CareCircle-Event-Id header, so receivers can de-duplicate.
  delivery_id     uuid        NOT NULL DEFAULT gen_random_uuid(),
  outbox_event_id uuid        NOT NULL,
  kind            text        NOT NULL,
  resource_type   text        NOT NULL,
  resource_id     text        NOT NULL,
  version_id      integer     NOT NULL,
  occurred_at     timestamptz NOT NULL,  -- when the change was committed (the outbox row's created_at)
  numbered_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status     integer,  -- HTTP status of the last attempt; null for a network error or timeout
  outcome         text CHECK (outcome IN ('delivered', 'withheld', 'dead-lettered')),  -- null while pending
  settled_at      timestamptz,
  PRIMARY KEY (subscription_id, event_number),
  UNIQUE (subscription_id, outbox_event_id)
);
-- "Has this subscription been told of a later version of this resource?" (matching folds overtaken changes).
CREATE INDEX subscription_event_resource ON subscription_event (subscription_id, resource_type, resource_id, version_id);
