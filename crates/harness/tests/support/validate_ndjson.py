#!/usr/bin/env python3
"""Validate a Cucumber Messages NDJSON file, one Envelope per line.

Usage: validate_ndjson.py FILE.ndjson [--no-refs]

Layers:
 1. cucumber_messages.message_converter.from_dict(obj, Envelope)
    (the official PyPI package): rejects missing required fields and bad
    enum values, but NOT wrong JSON types or unknown keys.
 2. A strict walk over the same generated dataclasses: JSON type of every
    field (str/int/bool/list/object), unknown keys, exactly one key per
    envelope, Timestamp/Duration nanos in 0..999999999.
 3. (unless --no-refs) referential checks: ids referenced were defined on an
    earlier line (pickle -> testCase -> testCaseStarted -> step events).
Exit 0 if all lines valid, 1 on the first invalid line (prints line + reason).
"""
import dataclasses
import enum
import json
import sys
import typing

import cucumber_messages as cm
from cucumber_messages import _messages as M

_hints_cache = {}


def hints(cls):
    if cls not in _hints_cache:
        _hints_cache[cls] = typing.get_type_hints(cls, vars(M))
    return _hints_cache[cls]


def snake_to_camel(s):
    parts = s.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def check(value, tp, path):
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return
        return check(value, args[0], path)
    if origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{path}: expected array, got {type(value).__name__}")
        (item,) = typing.get_args(tp)
        for i, v in enumerate(value):
            check(v, item, f"{path}[{i}]")
        return
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [e.value for e in tp]
        if value not in allowed:
            raise ValueError(f"{path}: {value!r} not one of {allowed}")
        return
    if tp is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: expected string, got {type(value).__name__}")
        return
    if tp is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: expected boolean, got {type(value).__name__}")
        return
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path}: expected integer, got {type(value).__name__}")
        return
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected object, got {type(value).__name__}")
        h = hints(tp)
        fields = {snake_to_camel(f.name): f for f in dataclasses.fields(tp)}
        for k in value:
            if k not in fields:
                raise ValueError(f"{path}: unknown field {k!r} for {tp.__name__}")
        for k, f in fields.items():
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            if k not in value or value[k] is None:
                if required:
                    raise ValueError(f"{path}: missing required field {k!r} of {tp.__name__}")
                continue
            check(value[k], h[f.name], f"{path}.{k}")
        if tp in (M.Timestamp, M.Duration) and not (0 <= value["nanos"] <= 999_999_999):
            raise ValueError(f"{path}.nanos out of range 0..999999999")
        return
    raise ValueError(f"{path}: unsupported type {tp!r}")


class Refs:
    def __init__(self):
        self.pickles, self.pickle_steps, self.test_cases = set(), set(), {}
        self.started, self.step_defs, self.hooks = {}, set(), set()

    def need(self, cond, msg):
        if not cond:
            raise ValueError("reference: " + msg)

    def feed(self, kind, o):
        if kind == "pickle":
            self.pickles.add(o["id"])
            self.pickle_steps.update(s["id"] for s in o["steps"])
        elif kind == "stepDefinition":
            self.step_defs.add(o["id"])
        elif kind == "hook":
            self.hooks.add(o["id"])
        elif kind == "testCase":
            self.need(o["pickleId"] in self.pickles, f"testCase.pickleId {o['pickleId']!r} unknown")
            for ts in o["testSteps"]:
                if "pickleStepId" in ts:
                    self.need(ts["pickleStepId"] in self.pickle_steps, f"pickleStepId {ts['pickleStepId']!r} unknown")
                for sd in ts.get("stepDefinitionIds", []):
                    self.need(sd in self.step_defs, f"stepDefinitionId {sd!r} unknown")
                if "hookId" in ts:
                    self.need(ts["hookId"] in self.hooks, f"hookId {ts['hookId']!r} unknown")
            self.test_cases[o["id"]] = {ts["id"] for ts in o["testSteps"]}
        elif kind == "testCaseStarted":
            self.need(o["testCaseId"] in self.test_cases, f"testCaseId {o['testCaseId']!r} unknown")
            self.started[o["id"]] = o["testCaseId"]
        elif kind in ("testStepStarted", "testStepFinished"):
            tcs = o["testCaseStartedId"]
            self.need(tcs in self.started, f"testCaseStartedId {tcs!r} unknown")
            self.need(o["testStepId"] in self.test_cases[self.started[tcs]],
                      f"testStepId {o['testStepId']!r} not in that testCase")
        elif kind == "testCaseFinished":
            self.need(o["testCaseStartedId"] in self.started, f"testCaseStartedId {o['testCaseStartedId']!r} unknown")


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    refs = None if "--no-refs" in argv else Refs()
    n = 0
    with open(args[0], encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue  # the official readers ignore blank lines
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict) or len(obj) != 1:
                    raise ValueError(f"envelope must be an object with exactly one key, got {list(obj) if isinstance(obj, dict) else type(obj).__name__}")
                cm.message_converter.from_dict(obj, M.Envelope)  # official model
                check(obj, M.Envelope, "$")
                if refs is not None:
                    (kind, payload), = obj.items()
                    refs.feed(kind, payload)
            except Exception as e:  # noqa: BLE001
                print(f"{args[0]}:{lineno}: invalid: {type(e).__name__}: {e}", file=sys.stderr)
                return 1
            n += 1
    print(f"{args[0]}: {n} envelopes valid")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
