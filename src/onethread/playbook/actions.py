"""Writing a workspace's playbook and its secrets, each change with its event."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.models import Team
from onethread.db.types import utcnow
from onethread.errors import InvalidInput
from onethread.events.log import append_event
from onethread.events.types import EventType
from onethread.inboxes.secrets import SecretBox
from onethread.playbook.models import PlaybookRecord
from onethread.playbook.schemas import Playbook
from onethread.playbook.service import playbook_record


def _check_teams(playbook: Playbook, team_names: set[str]) -> None:
    unknown = sorted({t.team for t in playbook.topics if t.team and t.team not in team_names})
    if unknown:
        raise InvalidInput(
            f"unknown team(s) {', '.join(unknown)}: create them first or fix the topics",
            details={"unknown_teams": unknown},
        )


async def _record_for(session: AsyncSession, workspace_id: int) -> PlaybookRecord:
    record = await playbook_record(session, workspace_id)
    if record is None:
        record = PlaybookRecord(
            workspace_id=workspace_id,
            document=Playbook().model_dump(mode="json"),
            revision=0,
            secrets_encrypted="",
            created_at=utcnow(),
        )
        session.add(record)
    return record


async def do_save_playbook(
    session: AsyncSession,
    workspace_id: int,
    playbook: Playbook,
    *,
    teams: list[Team],
    by_agent_id: int | None,
) -> PlaybookRecord:
    """Replace the playbook; topics must name teams of this workspace."""
    _check_teams(playbook, {team.name for team in teams})
    record = await _record_for(session, workspace_id)
    record.document = playbook.model_dump(mode="json")
    record.revision += 1
    record.updated_at = utcnow()
    append_event(
        session,
        workspace_id,
        EventType.PLAYBOOK_UPDATED,
        agent_id=by_agent_id,
        data={
            "revision": record.revision,
            "topics": len(playbook.topics),
            "actions": len(playbook.actions),
        },
    )
    return record


async def do_set_playbook_secrets(
    session: AsyncSession,
    workspace_id: int,
    values: dict[str, str | None],
    *,
    box: SecretBox,
    by_agent_id: int | None,
) -> list[str]:
    """Set (or, with None, remove) named secrets for action templates; returns the names."""
    record = await _record_for(session, workspace_id)
    secrets = box.open(record.secrets_encrypted)
    for name, value in values.items():
        if value is None:
            secrets.pop(name, None)
        else:
            secrets[name] = value
    record.secrets_encrypted = box.seal(secrets)
    record.updated_at = utcnow()
    append_event(
        session,
        workspace_id,
        EventType.PLAYBOOK_SECRETS_CHANGED,
        agent_id=by_agent_id,
        data={"names": sorted(values)},
    )
    return sorted(secrets)
