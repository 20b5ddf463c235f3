DROP TABLE IF EXISTS bot_state;
DROP TABLE IF EXISTS unreachable_chats;
DROP TABLE IF EXISTS outbox;
DROP TRIGGER IF EXISTS inbox_inserted ON inbox;
DROP FUNCTION IF EXISTS bot_notify();
DROP INDEX IF EXISTS inbox_unfinished;
