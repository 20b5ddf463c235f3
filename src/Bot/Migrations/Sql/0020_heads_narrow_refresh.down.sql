-- The update triggers of 0007 and 0009: every changed row's chat refreshed in full.
CREATE OR REPLACE FUNCTION inbox_heads_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inbox_heads_refresh(ARRAY(SELECT DISTINCT inbox_chat_key(chat_id, update_id) FROM new_rows));
    RETURN NULL;
END
$$;
ALTER FUNCTION inbox_heads_updated() RESET ALL;

DROP TRIGGER outbox_heads_updated ON outbox;
CREATE OR REPLACE FUNCTION outbox_heads_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outbox_heads_refresh(ARRAY(SELECT DISTINCT chat_id FROM new_rows));
    RETURN NULL;
END
$$;
ALTER FUNCTION outbox_heads_updated() RESET ALL;
CREATE TRIGGER outbox_heads_updated AFTER UPDATE ON outbox REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_heads_updated();

ALTER FUNCTION inbox_heads_refresh(bigint[]) RESET plan_cache_mode;
ALTER FUNCTION inbox_heads_refresh(bigint[]) RESET enable_seqscan;
ALTER FUNCTION outbox_heads_refresh(bigint[]) RESET plan_cache_mode;
ALTER FUNCTION outbox_heads_refresh(bigint[]) RESET enable_seqscan;
