"""An agent backed by the Anthropic Messages API through the official `anthropic` SDK
(AsyncAnthropic), with tool use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import anthropic

from agentsafe.agents.llm import LLMAgent, RawCall, Reply
from agentsafe.agents.render import TRIMMED, observation_text
from agentsafe.agents.schemas import anthropic_tools
from agentsafe.errors import AgentError
from agentsafe.models.events import Observation
from agentsafe.models.tools import ToolSpec, new_call_id


class AnthropicAgent(LLMAgent):
    """Messages API with tools. The key comes from `api_key_env` (ANTHROPIC_API_KEY); with a
    `base_url` (a proxy or local server) it may be absent. 429/5xx are retried by the SDK with
    exponential backoff, at most `max_retries` times."""

    provider = "anthropic"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "ANTHROPIC_API_KEY",
        max_retries: int = 4,
        timeout: float = 120.0,
        temperature: float | None = None,
        max_tokens: int = 4096,
        request_options: Mapping[str, Any] | None = None,
        **common: Any,
    ) -> None:
        super().__init__(model, **common)
        key = self._credentials(api_key_env, base_url)
        base_url = anthropic_root(base_url)
        self._client = anthropic.AsyncAnthropic(
            api_key=key,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
        )
        self._options: dict[str, Any] = {"max_tokens": max_tokens, **dict(request_options or {})}
        if temperature is not None:
            self._options["temperature"] = temperature

    def _reset_messages(self) -> None:
        self._system = ""
        self._msgs: list[dict[str, Any]] = []
        self._tools: list[dict[str, Any]] = []

    def _messages(self) -> list[Any]:
        return [self._system, self._msgs]

    def _begin(self, system: str, tools: list[ToolSpec]) -> None:
        self._system = system
        self._msgs = []
        self._tools = anthropic_tools(tools)

    def _user(self, blocks: list[dict[str, Any]]) -> None:
        """Append user content, merging into the last message if it is already the user's."""
        if self._msgs and self._msgs[-1]["role"] == "user":
            self._msgs[-1]["content"].extend(blocks)
        else:
            self._msgs.append({"role": "user", "content": blocks})

    def _add_observation(self, obs: Observation, results: list[tuple[str, str, bool]]) -> None:
        blocks: list[dict[str, Any]] = [
            {"type": "tool_result", "tool_use_id": cid, "content": text, "is_error": err}
            for cid, text, err in results
        ]
        blocks.append({"type": "text", "text": observation_text(obs)})
        if self.vision and obs.screenshot:
            blocks.append(
                {"type": "image",
                 "source": {"type": "base64", "media_type": "image/png", "data": obs.screenshot}}
            )
        self._user(blocks)

        def trim() -> None:
            for b in blocks:
                if b["type"] == "tool_result":
                    b["content"] = TRIMMED
                elif b["type"] in ("text", "image"):
                    b.clear()
                    b.update({"type": "text", "text": TRIMMED})

        self._register_trimmer(trim)

    def _add_feedback(self, reply: Reply, problems: list[tuple[RawCall | None, str]]) -> None:
        blocks: list[dict[str, Any]] = [
            {"type": "tool_result", "tool_use_id": raw.id, "content": f"Error: {msg}",
             "is_error": True}
            for raw, msg in problems
            if raw is not None
        ]
        general = [msg for raw, msg in problems if raw is None]
        text = "Error: " + " ".join(general) if general else "Your tool call was rejected. Try again."
        blocks.append({"type": "text", "text": text})
        self._user(blocks)

    async def _complete(self) -> Reply:
        try:
            resp = await self._client.messages.create(
                model=self.model,
                system=self._system,
                messages=self._msgs,  # type: ignore[arg-type]
                tools=self._tools,  # type: ignore[arg-type]
                **self._options,
            )
        except anthropic.AnthropicError as e:
            raise AgentError(f"{self.name}: {self.describe_error(e)}") from None
        texts: list[str] = []
        calls: list[RawCall] = []
        stored: list[dict[str, Any]] = []
        for block in resp.content:
            if block.type == "text":
                texts.append(block.text)
                stored.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                cid = block.id or new_call_id()
                calls.append(RawCall(id=cid, name=block.name, args=block.input))  # type: ignore[arg-type]
                stored.append({"type": "tool_use", "id": cid, "name": block.name, "input": block.input})
            elif block.type in ("thinking", "redacted_thinking"):
                stored.append(block.model_dump(exclude_none=True))
        if not stored:
            stored.append({"type": "text", "text": "(empty reply)"})
        self._msgs.append({"role": "assistant", "content": stored})
        u = resp.usage
        input_tokens = (u.input_tokens or 0) + (u.cache_read_input_tokens or 0) + (
            u.cache_creation_input_tokens or 0
        )
        usage = self._cost(input_tokens, u.output_tokens or 0)
        return Reply(text="\n".join(texts) or None, calls=calls, usage=usage)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()


def anthropic_root(base_url: str | None) -> str | None:
    """The API root the SDK expects: it appends `/v1/messages` itself, so a URL given with a
    trailing `/v1` (as for OpenAI-compatible servers) would post to `/v1/v1/messages`."""
    if base_url is None:
        return None
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")
