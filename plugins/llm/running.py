"""The one `LanguageModel` of each running gateway (a test process may run several), made the
first time a hook or route of a gateway with `[llm]` configured asks for it. The model and its HTTP
client are imported then, not by every command loading plugins."""

from __future__ import annotations

from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from .config import SECTION, LlmConfig

if TYPE_CHECKING:
    from csgw.gateway.ports import Gateway

    from .model import LanguageModel
    from .summaries import HandoverSummaries

_MODELS: WeakKeyDictionary[object, LanguageModel] = WeakKeyDictionary()


def config_of(services: Gateway) -> LlmConfig:
    return services.settings.section(SECTION, LlmConfig)


def model_for(services: Gateway) -> LanguageModel | None:
    """None when `[llm]` is not configured."""
    model = _MODELS.get(services)
    if model is None:
        config = config_of(services)
        if not config.configured:
            return None
        from .model import LanguageModel

        model = _MODELS[services] = LanguageModel(config, lambda: services.http,
                                                  services.settings.health.traffic_window_seconds)
    return model


_SUMMARIES: WeakKeyDictionary[object, HandoverSummaries] = WeakKeyDictionary()


def summaries_for(services: Gateway) -> HandoverSummaries | None:
    """None when `[llm]` is not configured or `summaries = false`."""
    summaries = _SUMMARIES.get(services)
    if summaries is None:
        model = model_for(services)
        if model is None or not model.config.summaries:
            return None
        from .summaries import HandoverSummaries

        summaries = _SUMMARIES[services] = HandoverSummaries(services, model)
    return summaries
