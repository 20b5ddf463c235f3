DROP TABLE discord_reconcile;
DROP TABLE discord_role_jobs;
DROP TABLE discord_links;
DROP TABLE discord_link_states;
