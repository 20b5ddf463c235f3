ALTER FUNCTION outbox_heads_refresh(bigint[]) RESET ALL;
ALTER FUNCTION outbox_heads_inserted() RESET ALL;
ALTER FUNCTION inbox_heads_refresh(bigint[]) RESET ALL;
ALTER FUNCTION inbox_heads_inserted() RESET ALL;
