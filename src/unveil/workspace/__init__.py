"""A party's private workspace: keys, the SQLite record, and the host's secrets."""
