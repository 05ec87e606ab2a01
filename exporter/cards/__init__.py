"""Stage 3, cards: sections and card syntax become cards with identities."""
