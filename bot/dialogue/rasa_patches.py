"""Every replacement of Rasa's internals, in one place, for the one Rasa version they were written against.

`apply()` is called by `Assistant.load`; it refuses to patch any other Rasa or rasa_sdk version, since
each patch (and each lookup of Rasa's private attributes below) depends on that version's code.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
RASA_SDK_VERSION = "3.6.2"
C = TypeVar("C")


def check_versions(rasa_version: str, rasa_sdk_version: str) -> None:
    """Raise RuntimeError unless the installed versions are the ones the patches were written for."""
    for package, expected, found in (
        ("rasa", RASA_VERSION, rasa_version),
        ("rasa_sdk", RASA_SDK_VERSION, rasa_sdk_version),
    ):
        if found != expected:
            raise RuntimeError(
                f"bot/dialogue/rasa_patches.py is written for {package} {expected}, but {package} {found} is "
                f"installed: check each patch against the new version, then update the expected version"
            )


def apply() -> None:
    """Check the installed Rasa and rasa_sdk versions, then apply the patches (idempotent)."""
    import rasa
    import rasa_sdk

    check_versions(rasa.__version__, rasa_sdk.__version__)
    validate_action_results_with_a_built_validator()


def validate_action_results_with_a_built_validator() -> None:
    """Make Rasa check the action server's answers with a schema validator built once.

    Rasa validates every custom action's answer with `jsonschema.validate(result, schema)`, which first
    checks the (constant) schema itself against the JSON Schema meta-schema: about 25 ms of CPU for each
    action call, on the event loop, more than the rest of a turn together (bench/load_bench.py). The
    answer is still checked against the same schema; an invalid one goes to Rasa's own method, which
    raises its usual error.
    """
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    current = RemoteAction._validate_action_result
    if getattr(current, "built_validator", False):
        return
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
            return True
        return bool(current(self, result))  # raises ValidationError with Rasa's explanation

    _validate_action_result.built_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def components_of(agent: Any, kind: type[C]) -> list[C]:
    """The instances of a graph component class in a loaded agent's prediction graph.

    Rasa has no public way to reach a loaded component: the processor's graph runner keeps its nodes
    (`DaskGraphRunner._instantiated_nodes`), each its component (`GraphNode._component`, loaded eagerly
    for prediction).
    """
    nodes = getattr(agent.processor.graph_runner, "_instantiated_nodes", None)
    if nodes is None:
        raise RuntimeError("the agent's graph runner has no nodes to look into (another Rasa version?)")
    return [node._component for node in nodes.values() if isinstance(getattr(node, "_component", None), kind)]


def set_action_endpoint(agent: Any, endpoint: Any) -> None:
    """Point a loaded agent (and its processor, which reads it per action) at another action endpoint."""
    agent.action_endpoint = endpoint
    agent.processor.action_endpoint = endpoint
