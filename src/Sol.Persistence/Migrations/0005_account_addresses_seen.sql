-- Rows of account_addresses past their 30 days are deleted at start-up, oldest first, by this index. (Its own version:
-- a database already at version 4 runs no DDL of 0004 again; helper-66.)
CREATE INDEX IF NOT EXISTS account_addresses_seen ON account_addresses (seen_ms);
