"""The accessible names the simulated ENT renders: the label pack the bot uses
(flows/ent/esup_montpellier/labels.yaml), possibly overridden by a test at create_app or renamed
live through POST /_sim/labels, so that a test can check the bot copes with a renamed control."""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

PACK_PATH = Path(__file__).resolve().parents[2] / "flows/ent/esup_montpellier/labels.yaml"


def load_pack(path: Path = PACK_PATH) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def merged(base: dict, override: dict) -> dict:
    """A deep copy of `base` with `override` (nested as the pack) laid over it."""
    result = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def leaf_keys(labels: dict, prefix: str = "") -> set[str]:
    """The dotted keys of every label, e.g. "menu.desktop"."""
    keys = set()
    for key, value in labels.items():
        if isinstance(value, dict):
            keys |= leaf_keys(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def lookup(labels: dict, key: str) -> str:
    value = labels
    for part in key.split("."):
        value = value[part]
    return str(value)


def rename(labels: dict, changes: dict) -> list[str]:
    """Apply {dotted key: new text} in place; nothing changes if a key is unknown, and the
    unknown keys are returned."""
    unknown = sorted(set(changes) - leaf_keys(labels))
    if unknown:
        return unknown
    for key, value in changes.items():
        *path, leaf = key.split(".")
        holder = labels
        for part in path:
            holder = holder[part]
        holder[leaf] = value
    return []
