"""The local server's side of the wire: requests -> engine values, engine reports -> answers.

The only module of ``boonamber.local`` that spells the wire's camelCase names. Parsing a
``postConfigRequest`` or ``postLearningRequest`` raises :class:`ConfigError` naming the wire
field (``features[1].minVal``); an engine ConfigError naming a python field is renamed here too.
Each answer has one builder; answers hold numpy arrays where the engine gives them, serialised
once by :func:`dumps` (the shapes are checked against the spec by the contract tests).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import numpy as np
import orjson

from boonamber import wire
from boonamber.local.defaults import (
    MAX_BUFFER_VALUES,
    MAX_BUFFERING_SAMPLES,
    MAX_CLUSTERS,
    MAX_FEATURES,
    MAX_HISTORY_WINDOW,
    MAX_PATTERN_LENGTH,
    MAX_STREAMING_WINDOW,
    MAX_TEMPLATE_VALUES,
)
from boonamber.local.engine import (
    ANALYTIC_KEYS,
    Analytics,
    ConfigError,
    ConfigInForce,
    EngineConfig,
    EngineStatus,
    EngineSummary,
    FeatureConfig,
    NanoStatus,
    TrainingConfig,
)
from boonamber.local.engine.config import FUSION_RULES, PV_MAX, PV_MIN, TRAINING_LIMITS
from boonamber.local.engine.patterns import MAX_ABS_VALUE
from boonamber.local.storage import ModelRow

Json = dict[str, Any]

NAME_RE = re.compile(r"^[A-Za-z0-9.:_-]{1,1024}$")
_INT_LIMIT = 2**53
IN_RANGE = f"between -{MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}"

#: Python field name -> wire name, for every name that differs.
WIRE_NAMES: dict[str, str] = {
    "streaming_window": "streamingWindow",
    "percent_variation": "percentVariation",
    "min_val": "minVal",
    "max_val": "maxVal",
    "fusion_rule": "fusionRule",
    "fusion_ttl": "fusionTTL",
    "history_window": "historyWindow",
    "buffering_samples": "bufferingSamples",
    "learning_max_samples": "learningMaxSamples",
    "learning_max_clusters": "learningMaxClusters",
    "learning_rate_numerator": "learningRateNumerator",
    "learning_rate_denominator": "learningRateDenominator",
}
_WORD_RE = re.compile(r"[a-z_]+")

#: Response header of postData / putData (a local-server extension, not in the spec): how many
#: input values of the request lay outside their feature's range and were clipped to it.
CLIPPED_HEADER = "X-Amber-Clipped"

#: Key of a data answer under which the service hands that count to the application, which
#: moves it into CLIPPED_HEADER (it never reaches the body).
CLIPPED_KEY = "clipped"


def wire_field(path: str) -> str:
    """``features[0].min_val`` -> ``features[0].minVal`` (unknown names kept)."""
    return _WORD_RE.sub(lambda m: WIRE_NAMES.get(m.group(0), m.group(0)), path)


@contextmanager
def wire_errors() -> Iterator[None]:
    """Re-raise an engine ConfigError with its field renamed to the wire's name."""
    try:
        yield
    except ConfigError as exc:
        renamed = wire_field(exc.field)
        if renamed == exc.field:
            raise
        raise ConfigError(renamed, exc.problem) from None


def dumps(body: Any) -> bytes:
    """An answer as JSON bytes; numpy arrays and scalars are written as numbers."""
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY)


# ---------------------------------------------------------------- requests


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _int(v: Any, fld: str, lo: int, hi: int = _INT_LIMIT) -> int:
    """An integer (integral floats accepted) in [lo, hi], else ConfigError naming ``fld``."""
    if not _is_number(v) or (isinstance(v, float) and not (math.isfinite(v) and v.is_integer())):
        raise ConfigError(fld, f"must be an integer, got {v!r}")
    iv = int(v)
    if iv < lo or iv > hi:
        raise ConfigError(fld, f"must be between {lo} and {hi}, got {iv}")
    return iv


def _float(v: Any, fld: str) -> float:
    if not _is_number(v) or not math.isfinite(float(v)):
        raise ConfigError(fld, f"must be a finite number, got {v!r}")
    if abs(float(v)) > MAX_ABS_VALUE:
        raise ConfigError(fld, f"must be {IN_RANGE}, got {v!r}")
    return float(v)


def _bool(v: Any, fld: str) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(fld, f"must be true or false, got {v!r}")
    return v


def _mapping(v: Any, fld: str) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise ConfigError(fld, f"must be an object, got {type(v).__name__}")
    return v


def parse_pv(v: Any, fld: str = "percentVariation") -> float:
    """A percentVariation value in [0.01, 0.20]."""
    pv = _float(v, fld)
    if not PV_MIN <= pv <= PV_MAX:
        raise ConfigError(fld, f"must be between {PV_MIN} and {PV_MAX}, got {pv}")
    return pv


#: Training fields with a server limit (memory) -> their largest value.
TRAINING_MAX: dict[str, int] = {
    "buffering_samples": MAX_BUFFERING_SAMPLES,
    "learning_max_clusters": MAX_CLUSTERS,
    "history_window": MAX_HISTORY_WINDOW,
}


def parse_training(body: Any, prefix: str = "training") -> TrainingConfig:
    """A trainingConfig object; unknown keys are ignored, null means unset."""
    m = _mapping(body, prefix)
    kw: dict[str, int | None] = {}
    for attr, (_default, lo) in TRAINING_LIMITS.items():
        wire = WIRE_NAMES[attr]
        v = m.get(wire)
        hi = TRAINING_MAX.get(attr, _INT_LIMIT)
        kw[attr] = None if v is None else _int(v, f"{prefix}.{wire}", lo, hi)
    return TrainingConfig(**kw)


def check_budget(feature_count: int, window: int, training: TrainingConfig) -> None:
    """The limits on products of fields (what a model may come to hold); ConfigError naming the
    field to lower and its largest value here."""
    length = feature_count * window
    if length > MAX_PATTERN_LENGTH:
        raise ConfigError(
            "streamingWindow",
            f"featureCount x streamingWindow must be at most {MAX_PATTERN_LENGTH} values, got "
            f"{feature_count} x {window} = {length} (at most "
            f"{MAX_PATTERN_LENGTH // feature_count} for {feature_count} features)",
        )
    clusters = training.get("learning_max_clusters")
    if clusters * length > MAX_TEMPLATE_VALUES:
        raise ConfigError(
            "training.learningMaxClusters",
            f"must be at most {MAX_TEMPLATE_VALUES // length} for patterns of {length} values "
            f"(learningMaxClusters x pattern length at most {MAX_TEMPLATE_VALUES}), got "
            f"{clusters}",
        )
    buffering = training.get("buffering_samples")
    if buffering * feature_count > MAX_BUFFER_VALUES:
        raise ConfigError(
            "training.bufferingSamples",
            f"must be at most {MAX_BUFFER_VALUES // feature_count} for {feature_count} features "
            f"(bufferingSamples x featureCount at most {MAX_BUFFER_VALUES}), got {buffering}",
        )


def _autotuning(body: Any) -> tuple[bool | None, bool | None]:
    a = _mapping(body, "autotuning")
    rng = None if a.get("range") is None else _bool(a["range"], "autotuning.range")
    pv = a.get("percentVariation")
    return rng, None if pv is None else _bool(pv, "autotuning.percentVariation")


def _feature(raw: Any, i: int) -> FeatureConfig:
    p = f"features[{i}]"
    m = _mapping(raw, p)
    name = m.get("name")
    if name is None:
        name = wire.default_feature_name(i)  # the service names an unnamed feature
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ConfigError(
            f"{p}.name", f"must match {NAME_RE.pattern} (letters, digits, '.:_-'), got {name!r}"
        )
    lo = None if m.get("minVal") is None else _float(m["minVal"], f"{p}.minVal")
    hi = None if m.get("maxVal") is None else _float(m["maxVal"], f"{p}.maxVal")
    if lo is not None and hi is not None and lo > hi:
        raise ConfigError(f"{p}.minVal", f"must not exceed maxVal ({lo} > {hi})")
    weight = 1 if m.get("weight") is None else _int(m["weight"], f"{p}.weight", 1, 1000)
    rule = m.get("fusionRule")
    if rule is None:
        rule = "submit"
    if rule not in FUSION_RULES:
        raise ConfigError(f"{p}.fusionRule", f"must be 'submit' or 'nosubmit', got {rule!r}")
    ttl = 0 if m.get("fusionTTL") is None else _int(m["fusionTTL"], f"{p}.fusionTTL", 0)
    return FeatureConfig(name, lo, hi, weight, str(rule), ttl)


def parse_config(body: Any) -> EngineConfig:
    """Parse and validate a postConfigRequest; raises ConfigError naming the bad wire field."""
    b = _mapping(body, "config")
    if b.get("streamingWindow") is None:
        raise ConfigError("streamingWindow", "is required")
    window = _int(b["streamingWindow"], "streamingWindow", 1, MAX_STREAMING_WINDOW)
    pv = None if b.get("percentVariation") is None else parse_pv(b["percentVariation"])
    feats_raw = b.get("features")
    if feats_raw is None:
        raise ConfigError("features", "is required")
    if isinstance(feats_raw, str | bytes) or not isinstance(feats_raw, list | tuple):
        raise ConfigError("features", "must be a list of feature objects")
    if not feats_raw:
        raise ConfigError("features", "must contain at least one feature")
    if len(feats_raw) > MAX_FEATURES:
        raise ConfigError(
            "features", f"at most {MAX_FEATURES} features allowed, got {len(feats_raw)}"
        )
    feats = tuple(_feature(f, i) for i, f in enumerate(feats_raw))
    seen: dict[str, int] = {}
    for i, f in enumerate(feats):
        if f.name in seen:
            raise ConfigError(
                f"features[{i}].name",
                f"duplicate feature name {f.name!r} (also features[{seen[f.name]}])",
            )
        seen[f.name] = i
    training = TrainingConfig()
    if b.get("training") is not None:
        training = parse_training(b["training"])
    auto_range, auto_pv = True, True
    if b.get("autotuning") is not None:
        rng, apv = _autotuning(b["autotuning"])
        auto_range = True if rng is None else rng
        auto_pv = True if apv is None else apv
    check_budget(len(feats), window, training)
    with wire_errors():
        return EngineConfig(window, feats, pv, training, auto_range, auto_pv)


def learning_args(body: Mapping[str, Any]) -> Json:
    """The fields of a postLearningRequest that matter (also the journal's record of it)."""
    return {k: body.get(k) for k in ("state", "training", "autotuning")}


def apply_learning(engine: Any, args: Mapping[str, Any]) -> None:
    """postLearning on ``engine`` (an AmberModel) from :func:`learning_args`; ConfigError
    naming the wire field on bad values (model unchanged)."""
    training = None if args.get("training") is None else parse_training(args["training"])
    rng, apv = (None, None) if args.get("autotuning") is None else _autotuning(args["autotuning"])
    if training is not None:
        cfg = engine.config
        merged = engine.config_in_force().training.merged(training)
        check_budget(cfg.feature_count, cfg.streaming_window, merged)
    with wire_errors():
        engine.set_learning(args.get("state"), training, rng, apv)


def config_request(cfg: EngineConfig) -> Json:
    """A postConfigRequest body that parses back to ``cfg`` (stored with the model)."""
    out: Json = {"streamingWindow": cfg.streaming_window}
    if cfg.percent_variation is not None:
        out["percentVariation"] = cfg.percent_variation
    feats = []
    for f in cfg.features:
        fd: Json = {"name": f.name}
        if f.min_val is not None:
            fd["minVal"] = f.min_val
        if f.max_val is not None:
            fd["maxVal"] = f.max_val
        fd.update(weight=f.weight, fusionRule=f.fusion_rule, fusionTTL=f.fusion_ttl)
        feats.append(fd)
    out["features"] = feats
    out["training"] = training_answer(cfg.training)
    out["autotuning"] = {"range": cfg.autotune_range, "percentVariation": cfg.autotune_pv}
    return out


# ---------------------------------------------------------------- answers


def training_answer(training: TrainingConfig) -> dict[str, int]:
    """A trainingConfig: the fields that are set, under their wire names."""
    return {WIRE_NAMES[a]: v for a in TRAINING_LIMITS if (v := getattr(training, a)) is not None}


def config_answer(c: ConfigInForce) -> Json:
    """configResponse: the configuration in force."""
    feats = [
        {
            "name": f.name,
            "minVal": float(c.min_vals[i]),
            "maxVal": float(c.max_vals[i]),
            "weight": f.weight,
            "fusionRule": f.fusion_rule,
            "fusionTTL": f.fusion_ttl,
            "minMaxDefined": f.min_max_defined,
        }
        for i, f in enumerate(c.config.features)
    ]
    return {
        "streamingWindow": c.config.streaming_window,
        "percentVariation": c.percent_variation,
        "features": feats,
        "training": training_answer(c.training),
        "autotuning": {"range": c.autotune_range, "percentVariation": c.autotune_pv},
    }


#: The status of a model that has no configuration yet.
UNCONFIGURED = EngineStatus(
    state="Buffering",
    warning_level=0,
    compliance_score=100,
    sample_count=0,
    cluster_count=0,
    progress=0,
    message="Not configured: post a configuration to start",
    graduation="",
)


def status_answer(
    s: EngineStatus, last_modified: int, last_modified_delta: int, message: str | None = None
) -> Json:
    """modelStatus; ``message`` overrides the engine's (a running pretraining)."""
    return {
        "state": s.state,
        "warningLevel": s.warning_level,
        "complianceScore": s.compliance_score,
        "sampleCount": s.sample_count,
        "clusterCount": s.cluster_count,
        "progress": s.progress,
        "message": s.message if message is None else message,
        "graduation": s.graduation,
        "lastModified": last_modified,
        "lastModifiedDelta": last_modified_delta,
    }


def analytics_answer(analytics: Analytics | None) -> Json:
    """analyticResults: the twelve analytics, one value per vector (empty lists if none)."""
    if analytics is None:
        return {k: [] for k in ANALYTIC_KEYS}
    return {k: analytics[k] for k in ANALYTIC_KEYS}


def nano_answer(n: NanoStatus) -> Json:
    """getNanoStatusResponse."""
    return {
        "pca": n.pca,
        "clusterGrowth": n.cluster_growth,
        "clusterSizes": n.cluster_sizes,
        "anomalyIndexes": n.anomaly_indexes,
        "frequencyIndexes": n.frequency_indexes,
        "distanceIndexes": n.distance_indexes,
        "sampleCount": n.sample_count,
        "clusterCount": n.cluster_count,
        "anomalyThreshold": n.anomaly_threshold,
        "state": n.state,
    }


def summary_answer(s: EngineSummary) -> Json:
    """getSummaryResponse (free-form description of the engine internals)."""
    return {
        "engine": "boonamber-local",
        "state": s.state,
        "graduation": s.graduation,
        "featureCount": s.feature_count,
        "streamingWindow": s.streaming_window,
        "patternLength": s.pattern_length,
        "percentVariation": s.percent_variation,
        "ranges": [
            {"name": n, "min": float(a), "max": float(b)}
            for n, a, b in zip(s.feature_names, s.min_vals, s.max_vals, strict=False)
        ],
        "sampleCount": s.sample_count,
        "trainingPatterns": s.training_patterns,
        "phaseVectors": s.phase_vectors,
        "bufferedVectors": s.buffered_vectors,
        "clusterCount": s.cluster_count,
        "largestCluster": s.largest_cluster,
        "unmatchedPatterns": s.unmatched_patterns,
        "ghostsKept": s.ghosts_kept,
        "anomalyThreshold": s.anomaly_threshold,
        "lambda": s.lam,
        "warningLevels": {"AW1": s.warning_levels[0], "AW2": s.warning_levels[1]},
        "anomalyHistory": s.anomaly_history,
        "training": training_answer(s.training),
        "autotuning": {"range": s.autotune_range, "percentVariation": s.autotune_pv},
    }


def root_cause_answer(names: list[str], values: np.ndarray[Any, Any]) -> Json:
    """getRootCauseResponse: per requested item, ``{name, value}`` per feature."""
    rows = values.tolist()
    return {
        "rootCauseList": [
            [{"name": n, "value": v} for n, v in zip(names, row, strict=True)] for row in rows
        ]
    }


def usage_answer(total_samples: int, counts: Mapping[str, tuple[int, str]]) -> Json:
    """getUsageResponse from per-operation ``(calls, last called)``."""
    endpoints = {k: {"totalCalls": n, "lastCalled": t} for k, (n, t) in counts.items()}
    return {"totalSamples": total_samples, "endpoints": endpoints}


def model_answer(row: ModelRow, full: bool = True) -> Json:
    """postModelResponse (``id`` and ``label``; ``created``/``modified`` when ``full``)."""
    out: Json = {"id": row.id, "label": row.label}
    if full:
        out["created"] = row.created
        out["modified"] = row.modified
    return out


def pretrain_answer(status: str, message: str, txn_id: str | None = None, spec: str = "") -> Json:
    """getPretrainResponse, or postPretrainResponse when ``txn_id`` is given."""
    out: Json = {"status": status, "message": message}
    if txn_id is not None:
        out.update(txnId=txn_id, chunkspec=spec)
    return out


def token_answer(id_token: str, expires_in: int, refresh_token: str) -> Json:
    """postOauth2AccessResponse / postOauth2RefreshResponse."""
    return {
        "idToken": id_token,
        "tokenType": "Bearer",
        "expiresIn": str(expires_in),
        "refreshToken": refresh_token,
    }
