"""`[llm]`: the OpenAI-compatible chat-completions endpoint the assistant speaks to, and where it
may answer customers. No `[llm]` table (or an empty one): the plugin does nothing."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from csgw.config.plugin_sections import ConfigSection

SECTION = "llm"
_SCOPE = re.compile(r"^[^/\s]+(?:/[^/\s]+)?\Z")


class LlmConfig(ConfigSection):
    """The keys of `[llm]` (docs/llm.md)."""

    base_url: str | None = None  # e.g. https://api.deepseek.com/v1; `/chat/completions` is added
    model: str | None = Field(None, min_length=1, max_length=200)
    api_key: SecretStr | None = None  # "${LLM_API_KEY}"; a local server may need none
    timeout_seconds: float = Field(8, gt=0, le=120)  # a customer's answer: model and checks within this
    max_tokens: int = Field(400, ge=16, le=8192)
    # where it answers customers: channel plugins (`webchat`) or accounts (`wechat_oa/shop`); None: everywhere
    sites: list[str] | None = None
    send_personal_data: bool = False  # phone numbers, e-mails, addresses, ID numbers masked unless true
    stream: bool = True  # ask for server-sent events (false: one JSON answer)
    temperature: float = Field(0.1, ge=0, le=2)
    entries: int = Field(3, ge=1, le=8)  # knowledge-base entries given for one question
    assist_timeout_seconds: float = Field(30, gt=0, le=300)  # drafts, summaries, `csgw llm gaps`
    summaries: bool = True  # an internal note summing up the conversation at hand-over and transfer

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host, e.g. https://api.deepseek.com/v1")
        if parts.username or parts.password or parts.query:
            raise ValueError("must carry no user, password or query: put the key in api_key")
        return url.rstrip("/")

    @field_validator("sites")
    @classmethod
    def _scopes(cls, sites: list[str] | None) -> list[str] | None:
        if sites is None:
            return None
        for site in sites:
            if not _SCOPE.match(site):
                raise ValueError(f"{site!r} is not a channel: write a plugin (webchat) or plugin/account "
                                 "(webchat/shoes), without spaces")
        return sites

    @model_validator(mode="after")
    def _complete(self) -> LlmConfig:
        if self.configured or not self.model_fields_set:
            return self
        missing = "base_url" if self.base_url is None else "model"
        raise ValueError(f"{missing} is missing: [llm] needs both base_url and model "
                         "(without an [llm] table the assistant is off)")

    @property
    def configured(self) -> bool:
        return self.base_url is not None and self.model is not None

    def answers_on(self, channel: str, account: str) -> bool:
        """Whether customers of this channel account may get the model's answers."""
        return self.sites is None or channel in self.sites or f"{channel}/{account}" in self.sites

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def host(self) -> str:
        """The endpoint's scheme, host and port: what health and logs name (never a key)."""
        parts = urlsplit(self.base_url or "")
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}"
