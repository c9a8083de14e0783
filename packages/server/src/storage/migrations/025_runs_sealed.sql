-- An asynchronous action's input and output are the app's data (often personal data): they are kept encrypted with
-- the vault, like credentials, in these columns. `input` / `output` (jsonb) stay for rows written before; the server
-- seals those at start (RunStore.sealPlaintext), found through the partial index below, which then stays empty.
ALTER TABLE runs ADD COLUMN input_sealed text;
ALTER TABLE runs ADD COLUMN output_sealed text;
CREATE INDEX runs_plaintext ON runs (id) WHERE uuid IS NOT NULL AND (input IS NOT NULL OR output IS NOT NULL);
