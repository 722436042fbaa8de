"""The store: one writer, its SQL plans, the schema and its upgrades, cursors, the SQL dialect."""
