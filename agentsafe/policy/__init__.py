"""The policy engine (observe and guard modes), matchers, the policy library and guard-as-a-library.

Import from the submodules: `agentsafe.policy.engine`, `.library`, `.guard`, `.matching`."""
