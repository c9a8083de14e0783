-- Issue #15: `custom.webhookSecret` (where an integration without OAuth credentials, such as Stripe's, keeps the
-- secret its provider signs webhooks with) is a secret: it moves out of the `custom` jsonb into a vault
-- ciphertext bound to the integration. The SQL only adds the column; the server seals the plaintext values of
-- existing rows at start (IntegrationStore.sealCustomSecrets), since only it holds the encryption key, and reads
-- a row not sealed yet as before.
ALTER TABLE integrations ADD COLUMN custom_secrets text;
