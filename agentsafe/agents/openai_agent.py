"""An agent backed by any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama,
LM Studio...) through the official `openai` SDK (AsyncOpenAI)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import openai

from agentsafe.agents.llm import LLMAgent, RawCall, Reply
from agentsafe.agents.render import TRIMMED, observation_text
from agentsafe.agents.schemas import openai_tools
from agentsafe.errors import AgentError
from agentsafe.models.events import Observation
from agentsafe.models.tools import ToolSpec, new_call_id


class OpenAIAgent(LLMAgent):
    """Chat-completions with function tools. The key comes from `api_key_env` (OPENAI_API_KEY);
    with a `base_url` (a local server) it may be absent. 429/5xx are retried by the SDK with
    exponential backoff, at most `max_retries` times."""

    provider = "openai"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_retries: int = 4,
        timeout: float = 120.0,
        temperature: float | None = None,
        max_tokens: int | None = None,
        request_options: Mapping[str, Any] | None = None,
        **common: Any,
    ) -> None:
        super().__init__(model, **common)
        key = self._credentials(api_key_env, base_url)
        self._client = openai.AsyncOpenAI(
            api_key=key,
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
        )
        self._options: dict[str, Any] = dict(request_options or {})
        if temperature is not None:
            self._options["temperature"] = temperature
        if max_tokens is not None:
            self._options["max_tokens"] = max_tokens

    def _reset_messages(self) -> None:
        self._msgs: list[dict[str, Any]] = []
        self._tools: list[dict[str, Any]] = []

    def _messages(self) -> list[Any]:
        return self._msgs

    def _begin(self, system: str, tools: list[ToolSpec]) -> None:
        self._msgs = [{"role": "system", "content": system}]
        self._tools = openai_tools(tools)

    def _add_observation(self, obs: Observation, results: list[tuple[str, str, bool]]) -> None:
        added: list[dict[str, Any]] = []
        for cid, text, _is_error in results:
            added.append({"role": "tool", "tool_call_id": cid, "content": text})
        content: list[dict[str, Any]] = [{"type": "text", "text": observation_text(obs)}]
        if self.vision and obs.screenshot:
            content.append(
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{obs.screenshot}"}}
            )
        user = {"role": "user", "content": content}
        added.append(user)
        self._msgs.extend(added)

        def trim() -> None:
            for m in added:
                m["content"] = TRIMMED if m["role"] == "tool" else [{"type": "text", "text": TRIMMED}]

        self._register_trimmer(trim)

    def _add_feedback(self, reply: Reply, problems: list[tuple[RawCall | None, str]]) -> None:
        for raw, msg in problems:
            if raw is not None:
                self._msgs.append({"role": "tool", "tool_call_id": raw.id, "content": f"Error: {msg}"})
        general = [msg for raw, msg in problems if raw is None]
        if general:
            self._msgs.append({"role": "user", "content": "Error: " + " ".join(general)})
        else:
            self._msgs.append(
                {"role": "user", "content": "Your tool call was rejected (see the errors). Try again."}
            )

    async def _complete(self) -> Reply:
        try:
            resp = await self._client.chat.completions.create(
                model=self.model,
                messages=self._msgs,  # type: ignore[arg-type]
                tools=self._tools,  # type: ignore[arg-type]
                **self._options,
            )
        except openai.OpenAIError as e:
            raise AgentError(f"{self.name}: {self.describe_error(e)}") from None
        if not resp.choices:
            raise AgentError(f"{self.name}: the server returned no choices")
        msg = resp.choices[0].message
        raw_calls: list[RawCall] = []
        stored_calls: list[dict[str, Any]] = []
        for tc in msg.tool_calls or []:
            fn = getattr(tc, "function", None)
            if fn is None:  # a custom (non-function) tool call: not ours
                continue
            cid = tc.id or new_call_id()
            args = fn.arguments
            if args is not None and not isinstance(args, str):  # some servers send an object
                args = self.dumps(args)
            raw_calls.append(RawCall(id=cid, name=fn.name or "", args=args))
            stored_calls.append(
                {"id": cid, "type": "function",
                 "function": {"name": fn.name or "", "arguments": args or ""}}
            )
        assistant: dict[str, Any] = {"role": "assistant", "content": msg.content}
        if stored_calls:
            assistant["tool_calls"] = stored_calls
        self._msgs.append(assistant)
        u = resp.usage
        usage = self._cost(
            (u.prompt_tokens or 0) if u else 0, (u.completion_tokens or 0) if u else 0
        )
        text = msg.content or getattr(msg, "refusal", None)
        return Reply(text=text, calls=raw_calls, usage=usage)

    async def aclose(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()
