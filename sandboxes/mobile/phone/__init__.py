"""agentsafe phone: a simulated Android phone served as web pages (not an emulator)."""
