"""Stage 1, read: find the vault's notes and images, split each note, read its card syntax."""
