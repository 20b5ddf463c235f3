DROP TABLE flood_warnings;
