"""The engine of the onboarding bot: configuration, secrets, browser, runs, reports.
It knows nothing of SACoche or the ENT: the pages live in the `flows` package."""
