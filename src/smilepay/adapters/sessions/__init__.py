"""Session stores (the ``ports.sessions.SessionStore`` port): Redis, or the SQL database."""
