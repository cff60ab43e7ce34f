-- Where each password account was used from (registered, logged in, refreshed), as a keyed hash of the client's
-- address group (an IPv4 address or an IPv6 /64; the key is the server's, so the table alone does not give the
-- addresses back). The newest 16 per account, for 30 days: the per-account limit on failed logins does not hold these
-- addresses (its owner's, most likely). Before, they were kept in memory only and a restart forgot them.
CREATE TABLE IF NOT EXISTS account_addresses (
    account_id ${UUID} NOT NULL,
    address TEXT NOT NULL,
    seen_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, address)
);
