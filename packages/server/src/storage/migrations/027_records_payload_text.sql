-- Issue #13 item 3. A record's payload is kept as the text jsonb prints for it (its key order, a space after `:`
-- and `,`), which GET /records copies into the page as it is: reading it is then a copy instead of a jsonb-to-text
-- conversion per row per read, which was more than half of the database's time for a page. Writes convert once
-- (jsonb_to_recordset's text of the payload object: the same function as `jsonb::text`; about 1 ms of database
-- time per 1,000 records, some 5% of a save), so the stored text and every response byte are what they were; the
-- table is about a tenth smaller (the text is shorter than jsonb's binary form). The rewrite converts existing rows
-- the same way.
ALTER TABLE records ALTER COLUMN payload TYPE text USING payload::text;
