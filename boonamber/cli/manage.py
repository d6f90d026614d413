"""``boonamber models|config|status|version``: manage models and read their state."""

from __future__ import annotations

import argparse
import re
from typing import Any

from boonamber._version import __version__
from boonamber.cli._common import (
    CliError,
    add_connection_options,
    client_from,
    emit,
    make_client,
)
from boonamber.cli.report import get_field, jsonable, plural
from boonamber.wire import default_feature_names


def register(sub: Any) -> None:
    """Add ``models`` and ``config``."""
    models = sub.add_parser(
        "models", help="list, create, show or delete models", description="Manage models."
    )
    msub = models.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = msub.add_parser("list", help="list the models", description="List the models.")
    add_connection_options(p, top_level=False)
    p.set_defaults(func=models_list)
    p = msub.add_parser("create", help="create a model", description="Create a model.")
    p.add_argument("label", help="the model's label (letters, digits and +.:_-)")
    add_connection_options(p, top_level=False)
    p.set_defaults(func=models_create)
    p = msub.add_parser(
        "show",
        help="show a model, its configuration and status",
        description="Show a model with its configuration and status.",
    )
    p.add_argument("model", metavar="MODEL", help="model id")
    add_connection_options(p, top_level=False)
    p.set_defaults(func=models_show)
    p = msub.add_parser("delete", help="delete models", description="Delete one or more models.")
    p.add_argument("models", metavar="MODEL", nargs="+", help="model id")
    add_connection_options(p, top_level=False)
    p.set_defaults(func=models_delete)

    p = sub.add_parser(
        "config",
        help="configure a model, or show its configuration",
        description="Configure MODEL (this wipes what it learned and restarts it at "
        "Buffering). Without --features, show its current configuration.",
    )
    p.add_argument("model", metavar="MODEL", help="model id")
    p.add_argument(
        "--features",
        metavar="N|NAMES",
        help="number of features, or their comma-separated names",
    )
    p.add_argument("--window", type=int, metavar="W", help="streaming window (vectors/pattern)")
    p.add_argument("--percent-variation", type=float, metavar="PV", help="0.01-0.20 (autotuned)")
    p.add_argument(
        "--range",
        dest="ranges",
        action="append",
        metavar="MIN:MAX",
        help="value range of a feature; once for all features or once per feature "
        "(autotuned when unset)",
    )
    p.add_argument("--weights", metavar="W1,W2,...", help="feature weights (1-1000)")
    for name, text in (
        ("buffering-samples", "vectors buffered before autotuning"),
        ("learning-max-samples", "vectors after which learning stops"),
        ("learning-max-clusters", "clusters after which learning stops"),
        ("learning-rate-numerator", "learning stops below this many new clusters…"),
        ("learning-rate-denominator", "…in this many recent patterns"),
        ("history-window", "patterns the anomaly history counts over"),
    ):
        p.add_argument(f"--{name}", type=int, metavar="N", help=text)
    p.add_argument(
        "--no-autotune-range", action="store_true", help="do not autotune feature ranges"
    )
    p.add_argument(
        "--no-autotune-pv", action="store_true", help="do not autotune the percent variation"
    )
    add_connection_options(p, top_level=False)
    p.set_defaults(func=config)


def register_info(sub: Any) -> None:
    """Add ``status`` and ``version``."""
    p = sub.add_parser("status", help="show a model's status", description="Show a model's status.")
    p.add_argument("model", metavar="MODEL", help="model id")
    add_connection_options(p, top_level=False)
    p.set_defaults(func=status)

    p = sub.add_parser(
        "version",
        help="show client and server versions",
        description="Show the client version and, when a server is configured (or with "
        "--local), the server's version.",
    )
    add_connection_options(p, top_level=False)
    p.set_defaults(func=version)


# --------------------------------------------------------------------------- models


def models_list(args: argparse.Namespace) -> int:
    """``models list``."""
    with client_from(args) as amber:
        result = amber.get_models(verbose=True)
    models = jsonable(result).get("modelList", [])
    if not models:
        text = "no models"
    else:
        rows = [f"{'ID':<26} {'LABEL':<40} CREATED"]
        rows += [
            f"{m.get('id', ''):<26} {m.get('label', ''):<40} {m.get('created', '')}" for m in models
        ]
        text = "\n".join(rows)
    emit(args, result, text)
    return 0


def models_create(args: argparse.Namespace) -> int:
    """``models create LABEL``."""
    with client_from(args) as amber:
        model = amber.post_model(args.label)
    emit(args, model, f"created model {model['id']} ({model.get('label', args.label)})")
    return 0


def models_delete(args: argparse.Namespace) -> int:
    """``models delete MODEL...``."""
    out = []
    with client_from(args) as amber:
        for model_id in args.models:
            out.append({"id": model_id, **jsonable(amber.delete_model(model_id))})
    emit(args, out, "\n".join(f"deleted model {m['id']}" for m in out))
    return 0


def models_show(args: argparse.Namespace) -> int:
    """``models show MODEL``: model, configuration (when configured) and status."""
    from boonamber.facade import AmberCloudError

    with client_from(args) as amber:
        model = jsonable(amber.get_model(args.model))
        try:
            cfg: dict[str, Any] | None = jsonable(amber.get_config(args.model))
        except AmberCloudError as exc:
            if exc.status not in (400, 404):
                raise
            cfg = None
        st = jsonable(amber.get_status(args.model)) if cfg is not None else None
    data = {"model": model, "config": cfg, "status": st}
    lines = [
        f"model     {model.get('id')}  {model.get('label', '')}",
        f"created   {model.get('created', '-')}, modified {model.get('modified', '-')}",
    ]
    lines.append("config    " + (_config_line(cfg) if cfg else "not configured"))
    if st:
        lines.append("status    " + _status_line(st))
    emit(args, data, "\n".join(lines))
    return 0


# --------------------------------------------------------------------------- config


def _parse_features(spec: str) -> int | list[str]:
    spec = spec.strip()
    if spec.isdigit():
        n = int(spec)
        if n < 1:
            raise CliError("--features must be at least 1")
        return n
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise CliError("--features needs a count or comma-separated names")
    return names


def _parse_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(":"))
    except ValueError:
        raise CliError(f"--range {text!r}: expected MIN:MAX, e.g. 0:10") from None
    if not lo < hi:
        raise CliError(f"--range {text!r}: MIN must be below MAX")
    return lo, hi


def build_features(args: argparse.Namespace) -> int | list[Any]:
    """The ``features=`` argument for ``AmberClient.configure`` from the options."""
    spec = _parse_features(args.features)
    names = default_feature_names(spec) if isinstance(spec, int) else spec
    ranges = [_parse_range(r) for r in args.ranges or []]
    weights: list[int] = []
    if args.weights:
        try:
            weights = [int(w) for w in args.weights.split(",")]
        except ValueError:
            raise CliError("--weights: expected comma-separated integers") from None
    for what, items in (("--range", ranges), ("--weights", weights)):
        if len(items) not in (0, 1, len(names)):
            raise CliError(f"{what}: give one value for all features or one per feature")
    if not ranges and not weights:
        return spec
    feats: list[Any] = []
    for i, name in enumerate(names):
        kw: dict[str, Any] = {"name": name}
        if ranges:
            kw["minVal"], kw["maxVal"] = ranges[i if len(ranges) > 1 else 0]
        if weights:
            kw["weight"] = weights[i if len(weights) > 1 else 0]
        feats.append(kw)  # validated by the client, which names the bad field
    return feats


def config(args: argparse.Namespace) -> int:
    """``config MODEL [...]``: configure, or show the configuration."""
    training = {
        key: getattr(args, key)
        for key in (
            "buffering_samples",
            "learning_max_samples",
            "learning_max_clusters",
            "learning_rate_numerator",
            "learning_rate_denominator",
            "history_window",
        )
        if getattr(args, key) is not None
    }
    configuring = args.features is not None
    others = [args.window, args.percent_variation, args.ranges, args.weights, *training.values()]
    if not configuring and (any(v is not None for v in others) or _autotune_flags(args)):
        raise CliError("configuring a model needs --features (a count or names)")
    from boonamber.facade import AmberUserError

    with client_from(args) as amber:
        if not configuring:
            result = amber.get_config(args.model)
            emit(args, result, _config_text(jsonable(result)))
            return 0
        kwargs: dict[str, Any] = {"features": build_features(args)}
        if args.window is not None:
            kwargs["streaming_window"] = args.window
        if args.percent_variation is not None:
            kwargs["percent_variation"] = args.percent_variation
        if training:
            kwargs["training"] = training
        if _autotune_flags(args):
            kwargs["autotune"] = {
                "range": not args.no_autotune_range,
                "percent_variation": not args.no_autotune_pv,
            }
        try:
            result = amber.configure(args.model, **kwargs)
        except AmberUserError as exc:  # caught before sending: name the flag, not the field
            raise CliError(_flag_message(str(exc))) from exc
    emit(args, result, f"configured model {args.model}\n" + _config_text(jsonable(result)))
    return 0


_PREFIX = "invalid post_config: "
_FLAG_OF_FIELD = {"streaming_window": "--window", "percent_variation": "--percent-variation"}


def _flag_of(location: str) -> str:
    """The ``config`` option behind a field of the request (``training.bufferingSamples``)."""
    if location.startswith("features"):
        if "min" in location.lower() or "max" in location.lower():
            return "--range"
        return "--weights" if "weight" in location else "--features"
    field = re.sub(r"(?<!^)(?=[A-Z])", "_", location.split(".")[-1]).lower()
    return _FLAG_OF_FIELD.get(field, "--" + field.replace("_", "-"))


def _flag_message(message: str) -> str:
    """``invalid post_config: streamingWindow: Input should be ...`` -> ``--window: ...``."""
    feature = re.match(r"invalid (features\[\d+\]): ", message)
    if feature is not None:
        location, _, text = message[feature.end() :].partition(": ")
        return f"{_flag_of('features.' + location)}: {text}"
    if not message.startswith(_PREFIX):
        return message
    parts = []
    for part in message[len(_PREFIX) :].split("; "):
        location, sep, text = part.partition(": ")
        parts.append(f"{_flag_of(location)}: {text}" if sep else part)
    return "; ".join(parts)


def _autotune_flags(args: argparse.Namespace) -> bool:
    return bool(args.no_autotune_range or args.no_autotune_pv)


def _config_line(cfg: dict[str, Any]) -> str:
    feats = cfg.get("features") or []
    names = ", ".join(str(f.get("name")) for f in feats[:6]) + (" …" if len(feats) > 6 else "")
    pv = cfg.get("percentVariation")
    pv_text = f", percent variation {pv}" if pv is not None else ""
    return f"{plural(len(feats), 'feature')} ({names}), streaming window {cfg.get('streamingWindow')}{pv_text}"


def _config_text(cfg: dict[str, Any]) -> str:
    lines = [_config_line(cfg)]
    for f in cfg.get("features") or []:
        lo, hi = f.get("minVal"), f.get("maxVal")
        if f.get("minMaxDefined"):
            rng = f"{lo} .. {hi} (configured)"
        elif lo is None or hi is None or lo == hi:
            rng = "autotuned (after buffering)"
        else:
            rng = f"{lo} .. {hi} (autotuned)"
        lines.append(
            f"  {f.get('name')}: range {rng}, weight {f.get('weight', 1)}, "
            f"fusion rule {f.get('fusionRule', 'submit')}"
        )
    training = cfg.get("training") or {}
    if training:
        lines.append("  training: " + ", ".join(f"{k} {v}" for k, v in training.items()))
    autotuning = cfg.get("autotuning") or {}
    if autotuning:
        lines.append("  autotuning: " + ", ".join(f"{k} {v}" for k, v in autotuning.items()))
    return "\n".join(lines)


# --------------------------------------------------------------------------- status, version


def _status_line(st: dict[str, Any]) -> str:
    grad = f", graduation {st['graduation']}" if st.get("graduation") else ""
    return (
        f"{st.get('state')} ({st.get('progress', 0)} %{grad}); "
        f"{plural(st.get('sampleCount', 0), 'pattern')}, "
        f"{plural(st.get('clusterCount', 0), 'cluster')}, "
        f"warning level {st.get('warningLevel', 0)}, compliance {st.get('complianceScore', '-')}"
    )


def status(args: argparse.Namespace) -> int:
    """``status MODEL``."""
    with client_from(args) as amber:
        result = amber.get_status(args.model)
    st = jsonable(result)
    text = f"model {args.model}: {_status_line(st)}"
    if st.get("message"):
        text += f"\n{st['message']}"
    emit(args, result, text)
    return 0


def version(args: argparse.Namespace) -> int:
    """``version``: the client's version, and the server's when one is configured."""
    data: dict[str, Any] = {"client": __version__}
    note = None
    try:
        amber = make_client(args)
    except CliError as exc:
        if args.server or args.profile or args.license_file:
            raise
        amber, note = None, f"server: not configured ({exc})"
    if amber is not None:
        with amber:
            data["server"] = jsonable(amber.get_version())
            data["server_url"] = str(get_field(amber, "server", default="") or "")
    lines = [f"boonamber {__version__}"]
    if "server" in data:
        where = f" at {data['server_url']}" if data.get("server_url") else ""
        lines.append(f"server{where}:")
        lines += [f"  {k}: {v}" for k, v in data["server"].items()]
    elif note:
        lines.append(note)
    emit(args, data, "\n".join(lines))
    return 0
