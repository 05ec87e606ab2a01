"""The Anki side: the package, the state a build follows, identities, the collection sync writes."""
