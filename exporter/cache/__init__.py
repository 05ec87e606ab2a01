"""The signed caches kept in an output folder, and the digest of the code every key holds."""
