"""seccompiler's JSON filters (rust-vmm seccompiler, ``docs/json_format.md``) and Firecracker's.

The file maps thread categories to filters, each its own `Policy`::

    {"vmm": {"mismatch_action": "kill_process", "match_action": "allow",
             "filter": [{"syscall": "accept4"},
                        {"syscall": "fcntl", "args": [
                            {"index": 1, "type": "dword", "op": "eq", "val": 2,
                             "comment": "F_SETFD"}]}]}}

``mismatch_action``/``match_action`` are also spelled ``default_action``/``filter_action``
(Firecracker). A rule matches when all its ``args`` conditions hold (a rule without ``args``
matches every call); the filter's match action applies when any rule matches. A condition
compares argument ``index`` with ``val``: ``type`` ``qword`` compares all 64 bits, ``dword``
the low 32 bits only, whatever the high half holds; ``op`` is ``eq ne lt le gt ge`` or
``{"masked_eq": MASK}`` (``arg & MASK == val & MASK``). Actions: ``allow``, ``log``,
``trap``, ``kill_thread``, ``kill_process``, ``user_notif``, ``{"errno": N}``,
``{"trace": N}`` (any letter case, as Firecracker's older files write them). Firecracker's
older per-rule ``action`` is accepted too.
"""
from __future__ import annotations

import errno as _errno
import json
import re
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

from .._errors import SeccompError, ThreadSyncError
from .._enums import LARGEST_ERRNO, Action
from .model import (TRUE, U32, U64, And, Arg, Atom, BinOp, Cmp, Expr, Num, Place, Policy,
                    PolicyError, Rule, unknown_syscall)

__all__ = ["parse", "dump", "dumps", "apply", "ThreadSyncError", "looks_like"]

_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_OP_NAMES = {v: k for k, v in _OPS.items()}
_PLAIN_ACTIONS = {"allow": Action.ALLOW, "log": Action.LOG, "trap": Action.TRAP,
                  "kill_thread": Action.KILL_THREAD, "kill_process": Action.KILL_PROCESS,
                  "killthread": Action.KILL_THREAD, "killprocess": Action.KILL_PROCESS,
                  "kill": Action.KILL_THREAD, "user_notif": Action.NOTIFY,
                  "usernotif": Action.NOTIFY}
_FILTER_KEYS = {"mismatch_action", "default_action", "match_action", "filter_action", "filter"}
_RULE_KEYS = {"syscall", "syscalls", "args", "comment", "action"}
_COND_KEYS = {"index", "type", "op", "val", "comment"}
_LIMITS = {"qword": U64, "dword": U32}


def _err(file: str, path: str, reason: str) -> PolicyError:
    return PolicyError(Place(file), "%s: %s" % (path, reason) if path else reason)


def _type(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object", type(None): "null"}.get(type(v), "a value")


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: The arguments (index, half) as expressions, made once: most conditions use them.
_ARGS = {(i, half): Arg(i, half) for i in range(6) for half in ("", "lo")}


def _obj(v: Any, file: str, path: str, keys: Set[str]) -> Mapping[str, Any]:
    if not isinstance(v, dict):
        raise _err(file, path, "expected an object, not %s" % _type(v))
    if keys.issuperset(v):
        return v
    for k in v:
        if k not in keys:
            raise _err(file, "%s.%s" % (path, k), "unknown field (expected one of %s)"
                       % ", ".join(sorted(keys)))
    return v


def _uint(v: Any, file: str, path: str, limit: int) -> int:
    if type(v) is int and 0 <= v <= limit:
        return v
    if not isinstance(v, int) or isinstance(v, bool):
        raise _err(file, path, "expected a number, not %s" % _type(v))
    if not 0 <= v <= limit:
        raise _err(file, path, "%d is out of range 0..%d" % (v, limit))
    return v


def _action(v: Any, file: str, path: str) -> Action:
    if isinstance(v, str):
        a = _PLAIN_ACTIONS.get(v.lower())
        if a is None:
            raise _err(file, path, "unknown action %s (expected one of allow, log, trap, "
                                   "kill_thread, kill_process, user_notif, {\"errno\": N}, "
                                   "{\"trace\": N})" % json.dumps(v))
        return a
    if isinstance(v, dict) and len(v) == 1:
        (k, data), = v.items()
        kind = str(k).lower()
        if kind in ("errno", "trace"):
            limit = LARGEST_ERRNO if kind == "errno" else 0xFFFF
            code = _uint(data, file, "%s.%s" % (path, k), limit)
            return Action.ERRNO(code) if kind == "errno" else Action.TRACE(code)
    raise _err(file, path, "invalid action %s" % json.dumps(v))


def _condition(v: Any, file: str, rule_path: str, j: int, place: Place) -> Expr:
    if type(v) is dict:  # the common well-formed case first, without building error paths
        kind, op, index, val = v.get("type"), v.get("op"), v.get("index"), v.get("val")
        limit = _LIMITS.get(kind) if type(kind) is str else None
        if limit is not None and type(op) is str and op in _OPS and \
                type(index) is int and 0 <= index <= 5 and type(val) is int and \
                0 <= val <= limit and _COND_KEYS.issuperset(v) and \
                type(v.get("comment", "")) is str:
            return Cmp(_OPS[op], _ARGS[index, "lo" if kind == "dword" else ""], Num(val), place)
    path = "%s.args[%d]" % (rule_path, j)
    c = _obj(v, file, path, _COND_KEYS)
    for key in ("index", "type", "op", "val"):
        if key not in c:
            raise _err(file, "%s.%s" % (path, key), "missing")
    index = _uint(c["index"], file, path + ".index", 5)
    kind = c["type"]
    if kind not in ("dword", "qword"):
        raise _err(file, path + ".type", "expected \"dword\" or \"qword\", not %s"
                   % json.dumps(kind))
    limit = U32 if kind == "dword" else U64
    val = _uint(c["val"], file, path + ".val", limit)
    if "comment" in c and not isinstance(c["comment"], str):
        raise _err(file, path + ".comment", "expected a string, not %s" % _type(c["comment"]))
    arg = _ARGS[index, "lo" if kind == "dword" else ""]
    op = c["op"]
    if isinstance(op, str) and op.lower() in _OPS:
        return Cmp(_OPS[op.lower()], arg, Num(val), place)
    if isinstance(op, dict) and len(op) == 1 and str(next(iter(op))).lower() == "masked_eq":
        mask = _uint(next(iter(op.values())), file, path + ".op.masked_eq", limit)
        return Cmp("==", BinOp("&", arg, Num(mask)), Num(val & mask), place)
    raise _err(file, path + ".op", "unknown operator %s (expected eq, ne, lt, le, gt, ge or "
                                   "{\"masked_eq\": MASK})" % json.dumps(op))


def _filter(name: str, v: Any, file: str) -> Policy:
    path = name
    f = _obj(v, file, path, _FILTER_KEYS)
    for a, b in (("mismatch_action", "default_action"), ("match_action", "filter_action")):
        if a in f and b in f:
            raise _err(file, path, "both %r and %r are set; use one of them" % (a, b))
        if a not in f and b not in f:
            raise _err(file, "%s.%s" % (path, a), "missing")
    mismatch_key = "mismatch_action" if "mismatch_action" in f else "default_action"
    match_key = "match_action" if "match_action" in f else "filter_action"
    mismatch = _action(f[mismatch_key], file, "%s.%s" % (path, mismatch_key))
    match = _action(f[match_key], file, "%s.%s" % (path, match_key))
    if "filter" not in f:
        raise _err(file, path + ".filter", "missing")
    if not isinstance(f["filter"], list):
        raise _err(file, path + ".filter", "expected an array, not %s" % _type(f["filter"]))
    rules: List[Rule] = []
    place = Place(file)
    rule_path = path + ".filter[%d]"
    for i, rule in enumerate(f["filter"]):
        rp = rule_path % i
        if type(rule) is not dict or not _RULE_KEYS.issuperset(rule):
            _obj(rule, file, rp, _RULE_KEYS)  # says what is wrong
        names: List[str] = []
        if "syscall" in rule and "syscalls" in rule:
            raise _err(file, rp, "both 'syscall' and 'syscalls' are set; use one of them")
        if "syscall" in rule:
            names = [rule["syscall"]]
        elif "syscalls" in rule:
            if not isinstance(rule["syscalls"], list) or not rule["syscalls"]:
                raise _err(file, rp + ".syscalls", "expected a non-empty array of names")
            names = list(rule["syscalls"])
        else:
            raise _err(file, rp + ".syscall", "missing (the syscall name)")
        for n in names:
            if not isinstance(n, str) or not _NAME.match(n):
                raise _err(file, rp + ".syscall", "invalid syscall name %s" % json.dumps(n))
            reason = unknown_syscall(n[4:] if n.startswith("SYS_") else n)
            if reason:
                raise _err(file, rp + ".syscall", reason)
        comment = rule.get("comment", "")
        if not isinstance(comment, str):
            raise _err(file, rp + ".comment", "expected a string, not %s" % _type(comment))
        action = _action(rule["action"], file, rp + ".action") if "action" in rule else match
        args = rule.get("args")
        conds: List[Expr] = []
        if args is not None:
            if not isinstance(args, list):
                raise _err(file, rp + ".args", "expected an array, not %s" % _type(args))
            conds = [_condition(c, file, rp, j, place) for j, c in enumerate(args)]
        cond: Expr = TRUE if not conds else conds[0] if len(conds) == 1 else And(tuple(conds))
        for n in names:
            rules.append(Rule(n[4:] if n.startswith("SYS_") else n, cond, action, place,
                              comment))
    return Policy(mismatch, tuple(rules), name=name, source=file)


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = dict(pairs)
    if len(out) == len(pairs):
        return out
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError("duplicate key %s" % json.dumps(k))
        out[k] = v
    return out


def parse(text: str, *, file: str = "<seccompiler>") -> Dict[str, Policy]:
    """The filters of a seccompiler JSON file, by thread category."""
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise PolicyError(Place(file, exc.lineno, exc.colno), "invalid JSON: %s"
                          % exc.msg) from None
    except ValueError as exc:
        raise PolicyError(Place(file), str(exc)) from None
    except RecursionError:
        raise PolicyError(Place(file), "invalid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise _err(file, "", "expected an object mapping thread categories to filters")
    return {name: _filter(name, v, file) for name, v in data.items()}


def looks_like(data: Any) -> bool:
    """Whether decoded JSON *data* is a seccompiler file (every value a filter object)."""
    return isinstance(data, dict) and bool(data) and all(
        isinstance(v, dict) and "filter" in v and
        ({"mismatch_action", "default_action"} & set(v)) for v in data.values())


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _action_json(a: Action) -> Any:
    if a.kind == "ERRNO":
        return {"errno": a.data}
    if a.kind == "TRACE":
        return {"trace": a.data}
    names = {int(Action.ALLOW): "allow", int(Action.LOG): "log", int(Action.TRAP): "trap",
             int(Action.KILL_THREAD): "kill_thread", int(Action.KILL_PROCESS): "kill_process",
             int(Action.NOTIFY): "user_notif"}
    return names[int(a)]


def _cond_alternatives(a: Atom) -> List[List[Dict[str, Any]]]:
    """An atom as alternatives, each a list of seccompiler conditions (all must hold)."""
    if a.half in ("", "lo"):
        kind = "dword" if a.half == "lo" else "qword"
        if a.mask is None:
            return [[{"index": a.index, "type": kind, "op": _OP_NAMES[a.op], "val": a.value}]]
        if a.op == "==":
            return [[{"index": a.index, "type": kind, "op": {"masked_eq": a.mask},
                      "val": a.value}]]
    out: List[List[Dict[str, Any]]] = []
    for m, v in a.patterns():
        if m == 0:
            out.append([])
        else:
            out.append([{"index": a.index, "type": "qword", "op": {"masked_eq": m}, "val": v}])
    return out


def dump(policy: Policy) -> Dict[str, Any]:
    """*policy* as one seccompiler filter object (JSON data). Raises PolicyError when it
    takes more than one action besides its default (seccompiler has one match action)."""
    default = policy.default_action
    match: Optional[Action] = None
    rules: List[Dict[str, Any]] = []
    for name in policy.syscalls():
        comment = next((r.comment for r in policy.rules_for(name) if r.comment), "")
        for action, conjs in policy.outcomes(name).items():
            if action == default:
                continue
            if match is not None and action != match:
                raise PolicyError(policy._place(name) or policy.source, "seccompiler's format "
                                  "has one match action per filter; %s needs %s and %s" % (
                                      name, match, action))
            match = action
            for conj in conjs:
                alts: List[List[Dict[str, Any]]] = [[]]
                for a in conj:
                    alts = [x + y for x in alts for y in _cond_alternatives(a)]
                for conds in alts:
                    rule: Dict[str, Any] = {"syscall": name}
                    if conds:
                        rule["args"] = conds
                    if comment:
                        rule["comment"] = comment
                    rules.append(rule)
    return {"mismatch_action": _action_json(default),
            "match_action": _action_json(match if match is not None else Action.ALLOW),
            "filter": rules}


def dumps(policies: Mapping[str, Policy]) -> str:
    """Filters by thread category as seccompiler JSON text."""
    return json.dumps({name: dump(p) for name, p in policies.items()}, indent=2) + "\n"


def apply(policy: Policy, *, all_threads: bool = False) -> None:
    """Compile *policy* (one thread category) and load it: for the calling thread only, or
    with *all_threads* for every thread of the process (TSYNC). A thread that cannot be
    synchronised raises `ThreadSyncError` carrying its id. Irreversible."""
    f = policy.compile()
    f.tsync = all_threads
    program = f.compile()
    f.release()
    try:
        program.load()
    except SeccompError as exc:
        m = re.search(r"thread (\d+)", str(exc.strerror or ""))
        if exc.errno == _errno.ESRCH and m:
            raise ThreadSyncError(int(m.group(1)), str(exc.strerror)) from None
        raise

