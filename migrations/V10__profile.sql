-- The person: a display name, and the language their albums are written in (the model is
-- asked for it; the offline organiser writes its titles in it).
ALTER TABLE users
    ADD COLUMN display_name text
        CONSTRAINT users_display_name_length CHECK (length(display_name) BETWEEN 1 AND 100),
    ADD COLUMN language text NOT NULL DEFAULT 'en'
        CONSTRAINT users_language_check CHECK (language IN ('en', 'de', 'fr', 'es'));
