"""The project's custom actions in rasa_sdk's executor, and one action call answered as the action server would."""

from __future__ import annotations

import importlib
import inspect
import logging
import pkgutil
from typing import Any

from rasa_sdk import Action, utils
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

import actions
from actions.common import Services, UsesServices

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Action-Server-Token"  # the shared secret a separate action server requires


def action_classes() -> list[type[Action]]:
    """Every concrete action class defined in the `actions` package, in module order."""
    found: list[type[Action]] = []
    for module_info in pkgutil.iter_modules(actions.__path__, f"{actions.__name__}."):
        module = importlib.import_module(module_info.name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            defined_here = value.__module__ == module.__name__
            if defined_here and issubclass(value, Action) and not inspect.isabstract(value):
                found.append(value)
    return found


def build_executor(services: Services) -> ActionExecutor:
    """rasa_sdk's executor with one instance of every project action, each given the services."""
    executor = ActionExecutor()
    for action_class in action_classes():
        if not issubclass(action_class, UsesServices):
            raise TypeError(f"{action_class.__name__} does not take the services (derive it from UsesServices)")
        executor.register_action(action_class(services))
    return executor


async def answer_action_call(executor: ActionExecutor, action_call: dict[str, Any]) -> tuple[int, Any]:
    """The HTTP status and JSON body rasa_sdk's action server (rasa_sdk/endpoint.py) gives for an action call."""
    utils.check_version_compatibility(action_call.get("version"))
    try:
        return 200, await executor.run(action_call)
    except ActionExecutionRejection as rejection:
        logger.debug(rejection)
        return 400, {"error": rejection.message, "action_name": rejection.action_name}
    except ActionNotFoundException as unknown:
        logger.error(unknown)
        return 404, {"error": unknown.message, "action_name": unknown.action_name}
    except Exception as exc:
        # The action server's catch-all (its 500 answer), logged in full here: Rasa then logs the failed
        # action and the turn goes on without its events, as with a remote server.
        logger.exception("action call failed: %s", action_call.get("next_action"))
        return 500, {"error": str(exc), "request_body": action_call}
