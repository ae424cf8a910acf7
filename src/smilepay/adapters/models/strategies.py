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
    landmarks: str = "mediapipe"  # alignment points: "mediapipe" (refined) or "yunet"


# Fusion weights are ``1 / sd`` of each member's impostor cosine scores (z-normalised fusion with
# equal weights), measured on the verification protocol; docs/accuracy.md has the grid around them.
STRATEGIES: dict[str, StrategySpec] = {
    s.name: s
    for s in [
        StrategySpec("fr_feature", (("fr_feature", 1.0),)),
        StrategySpec("fr_feature_flip", (("fr_feature+flip", 1.0),),
                     note="fr_feature with its mirror image averaged (twice the cost)"),
        StrategySpec("mobilefacenet", (("mobilefacenet+flip", 1.0),),
                     note="the mirror rides in the model's fixed second batch slot"),
        StrategySpec("dlib_resnet", (("dlib_resnet", 1.0),), note="75-110 ms a face"),
        StrategySpec("w600k_mbf", (("w600k_mbf", 1.0),), commercial=False,
                     note="NON-COMMERCIAL weights; needs SMILEPAY_ALLOW_NONCOMMERCIAL_MODELS"),
        StrategySpec("fusion_fast", (("fr_feature", 10.22), ("mobilefacenet+flip", 7.02)),
                     note="fr_feature + MobileFaceNet (with its free flip), z-score fusion"),
        StrategySpec("fusion_full", (("fr_feature+flip", 10.20), ("mobilefacenet+flip", 7.02),
                                     ("dlib_resnet", 26.89)),
                     note="the most accurate clean strategy; dlib makes it 110 ms+ a face"),
        # The same models aligned on YuNet's five points, kept to show what refinement buys.
        StrategySpec("fr_feature_yunet", (("fr_feature", 1.0),), landmarks="yunet"),
        StrategySpec("mobilefacenet_yunet", (("mobilefacenet+flip", 1.0),), landmarks="yunet"),
        StrategySpec("dlib_resnet_yunet", (("dlib_resnet", 1.0),), landmarks="yunet"),
        StrategySpec("w600k_mbf_yunet", (("w600k_mbf", 1.0),), commercial=False,
                     landmarks="yunet"),
        StrategySpec("fr_feature_rgb_yunet", (("fr_feature_rgb", 1.0),), landmarks="yunet",
                     note="channel-order check: RGB input"),
        StrategySpec("mobilefacenet_bgr_yunet", (("mobilefacenet_bgr", 1.0),), landmarks="yunet",
                     note="channel-order check: BGR input"),
        StrategySpec("mobilefacenet_noflip", (("mobilefacenet", 1.0),)),
        StrategySpec("fusion_fast_yunet", (("fr_feature", 10.24), ("mobilefacenet+flip", 7.02)),
                     landmarks="yunet"),
    ]
}

DEFAULT_STRATEGY = "fusion_fast"


def make_embedder(name: str) -> Embedder:
    """One named embedder (``EMBEDDER_FACTORIES``), loaded now."""
    if name not in EMBEDDER_FACTORIES:
        raise InvalidInput(f"expected an embedder in {sorted(EMBEDDER_FACTORIES)}, got {name!r}")
    return EMBEDDER_FACTORIES[name]()


def configured_strategy() -> str:
    """``SMILEPAY_FACE_STRATEGY`` when set, else ``DEFAULT_STRATEGY``."""
    from smilepay.config import get_settings

    return get_settings().face_strategy or DEFAULT_STRATEGY


def strategy_spec(name: str | None = None) -> StrategySpec:
    """The named strategy (the configured one when ``None``); ``InvalidInput`` if unknown."""
    spec_name = name or configured_strategy()
    if spec_name not in STRATEGIES:
        raise InvalidInput(f"expected a strategy in {sorted(STRATEGIES)}, got {spec_name!r}")
    return STRATEGIES[spec_name]


def load_strategy(name: str | None = None) -> Embedder:
    """The strategy's embedder (fused when it has several members); configured when ``None``."""
    spec = strategy_spec(name)
    members = [FusionMember(make_embedder(model), weight) for model, weight in spec.members]
    return FusedEmbedder(spec.name, members)  # model id = strategy name, even for one member
