"""``python -m exporter`` runs the same command line as ``notes-export``."""

from exporter.cli import main

if __name__ == "__main__":
    main(prog_name="notes-export")
