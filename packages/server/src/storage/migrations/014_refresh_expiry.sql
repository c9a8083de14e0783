-- When the connection's refresh token stops being accepted, as the provider announced it in a token response
-- (`refresh_token_expires_in` and its variants); null when the provider gave no lifetime. A refused refresh
-- after this instant means the connection `expired`; before it, the grant was withdrawn: `revoked` (issue #12 item 6).
ALTER TABLE connections ADD COLUMN refresh_expires_at timestamptz;
