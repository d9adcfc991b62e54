"""The store: SQLModel tables, the database, work claims, search, migrations and the local caches."""
