"""Local simulators of SACoche and the ENT, faithful to the real sites, for the demo and the tests."""
