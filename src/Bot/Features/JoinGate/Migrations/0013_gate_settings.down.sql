DROP TABLE gate_raids;
DROP TABLE join_verdicts;
DROP TABLE join_check_messages;
DROP TABLE join_check_tokens;
ALTER TABLE join_requests
    DROP COLUMN held, DROP COLUMN decided_by, DROP COLUMN language, DROP COLUMN chat_title, DROP COLUMN retry_at, DROP COLUMN attempts_left,
    DROP COLUMN check_kind, DROP COLUMN entry;
DROP TABLE gate_settings_audit;
DROP TABLE gate_settings;
