"""Whether the Docker tests can run here: one answer shared by every Docker test module."""

from __future__ import annotations

from agentsafe.runtime import docker as dk


def docker_missing(*images: str) -> str | None:
    """Why the Docker tests can't run (no daemon, an image not built), or None when they can."""
    if not dk.daemon_available():
        return "no Docker daemon reachable (start dockerd, e.g. `bash .ci/docker.sh`)"
    from docker.errors import ImageNotFound

    for image in images or (dk.OS_IMAGE,):
        try:
            dk.docker_client().images.get(image)
        except ImageNotFound:
            return f"image {image} missing (run `make images`)"
    return None
