"""Stage 2, render: each note's Markdown to safe HTML, its links and images resolved."""
