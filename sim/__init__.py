"""Local simulators of SACoche and the ENT, faithful to ../shared/spec, for the demo and the tests."""
