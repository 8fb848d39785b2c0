"""Runtimes: where a sandbox's processes live (`local` bubblewrap/subprocesses, `docker`).
The OS sandbox's control interface is `agentsafe.runtime.base.OSBackend`."""
