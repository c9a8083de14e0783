-- Issue #12 item 4: an environment may advertise its own OAuth callback (a callback proxy on the app's domain).
-- NULL means SWITCHBOARD_CALLBACK_URL, or else $SWITCHBOARD_SERVER_URL/oauth/callback.
ALTER TABLE environments ADD COLUMN callback_url text;

-- A flow whose callback is on another host starts by bouncing through that callback, which sets the browser
-- binding cookie on the callback's host. `start_hash` is the SHA-256 of that single-use bounce token; it is
-- cleared when the bounce binds the browser.
ALTER TABLE oauth_transactions ADD COLUMN start_hash text UNIQUE;
