-- Logged-out login sessions (a token's sid), kept until the last token of them has expired: before, a restart forgot
-- a logout, and a token of it could be refreshed again (for up to 30 days).
CREATE TABLE IF NOT EXISTS session_logouts (
    session_id ${UUID} PRIMARY KEY,
    until_ms BIGINT NOT NULL
);
