-- Public-key frontend auth (issue #12 item 2), off by default per environment. Every environment has a public key
-- (new ones get it from the column default, whoever creates them); `public_key_auth` switches the browser routes'
-- `public_key` parameter on; with `hmac_required` a public-key flow must carry HMAC-SHA256(hmac_key,
-- "<provider config key>:<connection id>"). `hmac_key` is a vault ciphertext bound to the environment's uuid,
-- created the first time it is read or needed.
ALTER TABLE environments ADD COLUMN public_key uuid UNIQUE DEFAULT gen_random_uuid();
UPDATE environments SET public_key = gen_random_uuid() WHERE public_key IS NULL;
ALTER TABLE environments ALTER COLUMN public_key SET NOT NULL;
ALTER TABLE environments ADD COLUMN public_key_auth boolean NOT NULL DEFAULT false;
ALTER TABLE environments ADD COLUMN hmac_required boolean NOT NULL DEFAULT false;
ALTER TABLE environments ADD COLUMN hmac_key text;
-- A public-key flow has no connect session: its transaction records none.
ALTER TABLE oauth_transactions ALTER COLUMN connect_session_id DROP NOT NULL;
