-- Wake the outbox relay when a change commits: every statement that appends outbox rows sends one NOTIFY on channel
-- `outbox` (no payload: the relay reads the table; NOTIFY is delivered only on commit, and several in one transaction
-- fold into one). The relay still polls, so a notification lost with a dropped connection costs only the poll interval.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('outbox', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
