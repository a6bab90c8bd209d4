"""`onethread eval …`: every evaluation is one command of ``eval_app``.

To add one, write its Typer command function in its own module of this package and
register it below with one line; ``onethread.cli`` mounts ``eval_app`` as ``eval``.
"""

from __future__ import annotations

import typer

from onethread.assistant.evaluation.conversations import conversations_command
from onethread.assistant.evaluation.handoff import handoff_command
from onethread.assistant.evaluation.kb import kb_command
from onethread.assistant.evaluation.multi import multi_command
from onethread.assistant.evaluation.topics import topics_command

eval_app = typer.Typer(
    help="Measure the assistant on labelled data before switching a change on.",
    no_args_is_help=True,
)

eval_app.command("topics")(topics_command)
eval_app.command("handoff")(handoff_command)
eval_app.command("multi")(multi_command)
eval_app.command("kb")(kb_command)
eval_app.command("conversations")(conversations_command)
