-- Which server serves a galaxy: one row a galaxy, held by the server that serves it and renewed while it runs, so a
-- second server on the same CockroachDB/PostgreSQL database refuses to serve it too (an embedded file is locked
-- instead). until_ms is the holder's clock in Unix milliseconds: past it, another server may take the galaxy over.
CREATE TABLE IF NOT EXISTS galaxy_leases (
    galaxy_id ${UUID} PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
