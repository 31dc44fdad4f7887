"""Storage: SQLite for a party's private workspace (and, later, the public board)."""
