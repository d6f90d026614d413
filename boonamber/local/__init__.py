"""The local Amber-compatible server: engine, HTTP service, auth and SQLite storage."""
