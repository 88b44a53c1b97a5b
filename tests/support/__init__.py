"""Real servers and a real browser for the integration and browser tests."""
