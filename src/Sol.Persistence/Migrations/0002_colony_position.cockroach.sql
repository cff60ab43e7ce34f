-- Where a colony stands on its planet's surface (it was only kept in memory, so colonies vanished from the planet at
-- every restart). Colonies founded before: at the surface's centre.
ALTER TABLE colonies ADD COLUMN IF NOT EXISTS x DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE colonies ADD COLUMN IF NOT EXISTS y DOUBLE PRECISION NOT NULL DEFAULT 0;
