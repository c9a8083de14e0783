-- Issue #13 item 3. A record's payload is kept as json holding the text jsonb prints for it (its key order, a space
-- after `:` and `,`), which GET /records copies into the page as it is: reading it is then a copy instead of a
-- jsonb-to-text conversion per row per read, which was more than half of the database's time for a page. Writes
-- convert once (jsonb_to_recordset's json of the payload object is jsonb's text; about 3 ms of database time per
-- 1,000 records, some 10% of a save), so the stored text and every response byte are what they were; the table is
-- about a tenth smaller (the text is shorter than jsonb's binary form). json rather than text: an instance still
-- running the previous version while another migrates (docs/operations.md, "Upgrading") reads json payloads as
-- objects, as it read jsonb, and its jsonb writes are converted on assignment, to the same text.
ALTER TABLE records ALTER COLUMN payload TYPE json USING payload::json;
