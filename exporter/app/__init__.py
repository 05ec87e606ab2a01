"""The engine that runs the stages for build, check, watch and sync, and its outputs."""
