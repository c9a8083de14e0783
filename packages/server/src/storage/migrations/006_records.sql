-- Records cache (docs/records.md): the latest payload of every record a sync wrote, per connection and model.
-- The natural key is the primary key, so a batch upsert needs no other unique index. `id` is a per-row sequence
-- number with no index of its own: it only breaks ties inside the read cursor (updated_at, id).
CREATE SEQUENCE records_id_seq AS bigint;
CREATE TABLE records (
    connection_id integer NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
    model text NOT NULL,
    external_id varchar(255) NOT NULL,
    id bigint NOT NULL DEFAULT nextval('records_id_seq'),
    payload jsonb NOT NULL,
    data_hash text NOT NULL,
    created_at timestamptz NOT NULL,
    -- Bumped only when the hash changes, or on delete/undelete, so the feed does not repeat unchanged records.
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    pruned_at timestamptz,
    -- The last job that wrote or saw the record; delete detection soft-deletes what a job did not see.
    last_seen_job bigint NOT NULL,
    sync_id text,
    PRIMARY KEY (connection_id, model, external_id)
);
ALTER SEQUENCE records_id_seq OWNED BY records.id;
-- Every read pages through one (connection, model) in (updated_at, id) order.
CREATE INDEX records_feed ON records (connection_id, model, updated_at, id);
