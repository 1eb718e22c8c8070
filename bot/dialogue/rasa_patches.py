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

    from bot.dialogue import applied_events

    check_versions(rasa.__version__, rasa_sdk.__version__)
    validate_action_results_with_a_built_validator()
    applied_events.install()
    load_models_for_inference_without_a_training_step()


def validate_action_results_with_a_built_validator() -> None:
    """Make Rasa check the action server's answers with validators built once, one per event type.

    Rasa validates every custom action's answer with `jsonschema.validate(result, schema)`, which first
    checks the (constant) schema itself against the JSON Schema meta-schema: about 25 ms of CPU for each
    action call, on the event loop, more than the rest of a turn together (bench/load_bench.py). Even
    built once, the schema's `oneOf` over the ~25 event types tries each event against every type: a tenth
    of a turn's CPU. `ActionResultCheck` checks each event against its own type only, which accepts
    exactly what the schema accepts; anything it does not accept goes to Rasa's own method, which decides
    and raises its usual error.
    """
    from rasa.core.actions.action import RemoteAction

    current = RemoteAction._validate_action_result
    if getattr(current, "built_validator", False):
        return
    check = ActionResultCheck(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if check.accepts(result):
            return True
        return bool(current(self, result))  # raises ValidationError with Rasa's explanation

    _validate_action_result.built_validator = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def load_models_for_inference_without_a_training_step() -> None:
    """Make Rasa load a trained DIET model for prediction without first tracing its training step.

    `RasaModel.load` compiles the empty model and fits it on one example "to build weights of the correct
    size", then loads the saved weights over them: tracing the training function is about 18 s of CPU of
    the 24 s a model load takes, at every start of the bot and every worker. A TensorFlow-format
    checkpoint restores each variable by its path in the model the moment the variable is created, so
    loading the weights first and then running the one inference Rasa runs anyway builds exactly the
    prediction variables with their trained values. `assert_existing_objects_matched` proves every
    variable so created came from the checkpoint; if one did not, Rasa's own loading is used instead.
    Fine-tuning (which needs the optimizer's state) always takes Rasa's path.
    """
    from rasa.utils.tensorflow.models import RasaModel

    rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]
    if getattr(rasa_load, "without_training_step", False):
        return

    def load(
        cls: type[RasaModel],
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        if finetune_mode or predict_data_example is None:
            return rasa_load(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        status = model.load_weights(model_file_name)
        model.run_inference(predict_data_example)
        try:
            status.assert_existing_objects_matched()
        except AssertionError:
            logger.warning("%s: not every variable came from %s; loading it Rasa's way", cls.__name__, model_file_name)
            return rasa_load(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        status.expect_partial()  # the optimizer's slots are for training only
        return model

    load.without_training_step = True  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load)  # type: ignore[assignment]


class ActionResultCheck:
    """Rasa's action response schema, with each event checked against its own type instead of `oneOf` all.

    The schema's event items are ``{type, properties, required: [event], oneOf: [one schema per type]}``
    where each type's schema pins ``event`` to a constant of its own. So an event is valid exactly when it
    is valid against the common part together with the one type its ``event`` names: every other type's
    constant fails, so "exactly one of" holds. Any other shape of schema (another Rasa) is validated whole.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema.validators import validator_for

        validator_class = validator_for(schema)
        validator_class.check_schema(schema)
        self._whole = validator_class(schema)
        self._top: Any = None
        self._by_type: dict[str, Any] = {}
        events = schema.get("properties", {}).get("events", {})
        items = events.get("items", {}) if events.get("type") == "array" else {}
        types = items.get("oneOf", [])
        names = [t.get("properties", {}).get("event", {}).get("const") for t in types]
        if not types or None in names or len(set(names)) != len(names) or "event" not in items.get("required", []):
            logger.warning("Rasa's action response schema has another shape: each answer is validated whole")
            return
        common = {key: value for key, value in items.items() if key != "oneOf"}
        self._by_type = {name: validator_class({"allOf": [common, t]}) for name, t in zip(names, types, strict=True)}
        top = {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
        self._top = validator_class(top)

    def accepts(self, result: Any) -> bool:
        """Whether the schema accepts an action's answer (False may also mean: let Rasa's check decide)."""
        if self._top is None:
            return bool(self._whole.is_valid(result))
        if not self._top.is_valid(result):
            return False
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            validator = self._by_type.get(name) if isinstance(name, str) else None
            if validator is None or not validator.is_valid(event):
                return False
        return True


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
