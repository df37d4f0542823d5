"""The file store: revision and artifact files, written atomically under the data directory."""
