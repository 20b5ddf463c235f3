DROP TABLE gate_raid_periods;
ALTER TABLE join_requests DROP COLUMN username, DROP COLUMN user_name, DROP COLUMN left_at;
