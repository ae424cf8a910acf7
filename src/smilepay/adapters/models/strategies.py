"""Recognition strategies by name: which embedders, flipped or not, fused with which weights.

Weights are ``w_i / sd_i`` of a z-normalised score fusion measured on the verification
protocol (docs/accuracy.md). ``DEFAULT_STRATEGY`` is the best commercially usable one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smilepay.adapters.models.embedders import (
    DlibResnetEmbedder,
    FrFeatureEmbedder,
    MobileFaceNetEmbedder,
    W600kMbfEmbedder,
)
from smilepay.errors import InvalidInput
from smilepay.ports.vision import Embedder
from smilepay.vision.fusion import FusedEmbedder, FusionMember

EMBEDDER_FACTORIES: dict[str, Callable[[], Embedder]] = {
    "fr_feature": lambda: FrFeatureEmbedder(flip=False),
    "fr_feature+flip": lambda: FrFeatureEmbedder(flip=True),
    "fr_feature_rgb": lambda: FrFeatureEmbedder(flip=False, rgb=True),
    "mobilefacenet": lambda: MobileFaceNetEmbedder(flip=False),
    "mobilefacenet+flip": lambda: MobileFaceNetEmbedder(flip=True),
    "mobilefacenet_bgr": lambda: MobileFaceNetEmbedder(flip=False, rgb=False),
    "dlib_resnet": lambda: DlibResnetEmbedder(flip=False),
    "dlib_resnet+flip": lambda: DlibResnetEmbedder(flip=True),
    "w600k_mbf": lambda: W600kMbfEmbedder(flip=False),
    "w600k_mbf+flip": lambda: W600kMbfEmbedder(flip=True),
}


@dataclass(frozen=True)
class StrategySpec:
    name: str
    members: tuple[tuple[str, float], ...]  # (embedder name, fusion weight)
    commercial: bool = True
    note: str = ""


STRATEGIES: dict[str, StrategySpec] = {
    s.name: s
    for s in [
        StrategySpec("fr_feature", (("fr_feature", 1.0),)),
        StrategySpec("mobilefacenet", (("mobilefacenet", 1.0),)),
        StrategySpec("dlib_resnet", (("dlib_resnet", 1.0),)),
        StrategySpec("w600k_mbf", (("w600k_mbf", 1.0),), commercial=False),
        StrategySpec("fusion_fast", (("fr_feature", 1.0), ("mobilefacenet+flip", 1.0)),
                     note="fr_feature + MobileFaceNet with its free flip"),
    ]
}

DEFAULT_STRATEGY = "fusion_fast"


def make_embedder(name: str) -> Embedder:
    """One named embedder (``EMBEDDER_FACTORIES``), loaded now."""
    if name not in EMBEDDER_FACTORIES:
        raise InvalidInput(f"expected an embedder in {sorted(EMBEDDER_FACTORIES)}, got {name!r}")
    return EMBEDDER_FACTORIES[name]()


def strategy_spec(name: str | None = None) -> StrategySpec:
    """The named strategy (the default when ``None``); ``InvalidInput`` for an unknown name."""
    spec_name = name or DEFAULT_STRATEGY
    if spec_name not in STRATEGIES:
        raise InvalidInput(f"expected a strategy in {sorted(STRATEGIES)}, got {spec_name!r}")
    return STRATEGIES[spec_name]


def load_strategy(name: str | None = None) -> Embedder:
    """The strategy's embedder (fused when it has several members); default when ``None``."""
    spec = strategy_spec(name)
    members = [FusionMember(make_embedder(model), weight) for model, weight in spec.members]
    if len(members) == 1:
        return members[0].embedder
    return FusedEmbedder(spec.name, members)
