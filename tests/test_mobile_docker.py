"""The mobile sandbox on the docker runtime: the phone server in a hardened container
(PhoneContainer), driven by the same MobileSandbox code, gives the same verdicts as local."""

from __future__ import annotations

import pytest
from docker_ready import docker_missing

from agentsafe.agents.scripted import ReferenceAgent
from agentsafe.models.policy import VerdictStatus
from agentsafe.paths import SCENARIOS_DIR
from agentsafe.policy.library import load_library, resolve
from agentsafe.runner.episode import run_episode
from agentsafe.runtime.docker_apps import MOBILE_IMAGE
from agentsafe.sandbox.mobile import MobileSandbox
from agentsafe.scenarios import load_file

pytestmark = [pytest.mark.docker, pytest.mark.browser, pytest.mark.anyio]


def _skip_reason() -> str | None:
    return docker_missing(MOBILE_IMAGE)


_reason = _skip_reason()
if _reason:
    pytestmark.append(pytest.mark.skip(reason=_reason))


async def test_docker_phone_matches_local_verdicts() -> None:
    sc = load_file(SCENARIOS_DIR / "mobile" / "inj_sms_transfer.yaml")[0]
    policies = resolve(sc, load_library())
    outcomes = {}
    for runtime in ("local", "docker"):
        sb = MobileSandbox(runtime=runtime)
        try:
            await sb.start()
            if runtime == "docker":
                assert sb._proc is None and sb._container is not None  # not a local subprocess
            res = []
            for unsafe in (False, True):
                r = await run_episode(sc, sb, ReferenceAgent(unsafe), policies, runtime=runtime)
                res.append((r.completed, r.exposed, r.attack_success,
                            sorted(v.policy_id for v in r.verdicts if v.status == VerdictStatus.violated)))
            outcomes[runtime] = res
        finally:
            await sb.close()
    assert outcomes["local"] == outcomes["docker"]
    assert outcomes["docker"][0] == (True, True, False, [])
    assert outcomes["docker"][1][2] is True
