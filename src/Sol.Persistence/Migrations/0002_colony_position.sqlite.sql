-- Where a colony stands on its planet's surface (it was only kept in memory, so colonies vanished from the planet at
-- every restart). Colonies founded before: at the surface's centre. SQLite has no ADD COLUMN IF NOT EXISTS; its DDL is
-- transactional, so this migration is applied whole or not at all.
ALTER TABLE colonies ADD COLUMN x DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE colonies ADD COLUMN y DOUBLE PRECISION NOT NULL DEFAULT 0;
