-- Expired sign-ins are deleted by query (DeleteExpiredLogins), as in every backend.
CREATE INDEX logins_expires ON logins(expires_at);
