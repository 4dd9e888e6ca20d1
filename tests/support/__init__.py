"""Test support: a scripted OpenAI-compatible server with fault injection and request accounting."""

from .scripted_server import (
    FAULT_KINDS,
    FaultPlan,
    ModelSpec,
    PromptRule,
    RequestRecord,
    ScriptedApp,
    ScriptedProcess,
    ScriptedServer,
    scripted_server_process,
)

__all__ = [
    "FAULT_KINDS",
    "FaultPlan",
    "ModelSpec",
    "PromptRule",
    "RequestRecord",
    "ScriptedApp",
    "ScriptedProcess",
    "ScriptedServer",
    "scripted_server_process",
]
