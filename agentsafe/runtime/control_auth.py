"""Authentication of the OS control channel, shared by the local and Docker runtimes.

The harness sends a random key (`auth`) when the control server starts and a new one with every
reset (`rekey`): per episode. Each request carries a fresh nonce; the server signs its reply with
HMAC-SHA256(key, "<id>:<nonce>"). A reply with another id, a missing or wrong mac, or a line that
is not JSON is something only a process of the sandbox could have produced (the harness and the
server never get out of step on their own): an IntegrityError, never silently skipped.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from agentsafe.errors import IntegrityError


class ControlAuth:
    """Request ids, nonces and reply verification of one control session."""

    def __init__(self) -> None:
        self.key: bytes | None = None
        self._next_id = 0

    def auth_request(self) -> dict[str, Any]:
        """The first request of a session: installs a fresh key (its reply is signed with it)."""
        self.key = secrets.token_bytes(32)
        return {"op": "auth", "key": self.key.hex()}

    def stamp(self, req: dict[str, Any], rekey: bool = False) -> tuple[dict[str, Any], bytes | None]:
        """The request with its id and nonce (and a new key for the next episode when `rekey`);
        returns it and the key to switch to once the reply is verified."""
        self._next_id += 1
        out = {**req, "id": self._next_id, "nonce": secrets.token_hex(16)}
        new_key = None
        if rekey and self.key is not None:
            new_key = secrets.token_bytes(32)
            out["rekey"] = new_key.hex()
        return out, new_key

    def verify(self, req: dict[str, Any], line: bytes, new_key: bytes | None = None,
               signed: bool = True) -> dict[str, Any]:
        """The parsed reply to `req`; IntegrityError when it is not the server's."""
        try:
            reply = json.loads(line)
        except ValueError:
            raise IntegrityError(f"unparseable control reply to '{req.get('op')}' "
                                 f"({len(line)} bytes): {line[:80]!r}") from None
        if not isinstance(reply, dict) or reply.get("id") != req["id"]:
            got = reply.get("id") if isinstance(reply, dict) else type(reply).__name__
            raise IntegrityError(f"control reply out of step: id {got!r} answered request "
                                 f"{req['id']} ('{req.get('op')}') - forged by the sandbox")
        key = self.key
        if signed and key is not None:
            want = hmac.new(key, f"{req['id']}:{req['nonce']}".encode(), hashlib.sha256).hexdigest()
            mac = reply.get("mac")
            if not isinstance(mac, str) or not hmac.compare_digest(mac, want):
                raise IntegrityError(f"control reply to '{req.get('op')}' has a wrong signature "
                                     "- forged by the sandbox")
        if new_key is not None:
            self.key = new_key
        return reply
