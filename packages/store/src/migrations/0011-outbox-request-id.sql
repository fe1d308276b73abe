-- The id of the HTTP request whose write made an outbox event (null for the server's own writes, and for events written
-- before this column), so the worker's log lines for relaying, matching and delivering the event name the request that
-- caused it. An id chosen by the server or the caller's X-Request-Id, never content.
ALTER TABLE outbox ADD COLUMN request_id text;
