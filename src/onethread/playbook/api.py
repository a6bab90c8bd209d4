"""The workspace's playbook: read by every agent, written by admins, as JSON or YAML."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from onethread.agents.service import list_teams
from onethread.api.deps import AdminCaller, Context, CurrentCaller, ReadSession, WriteSession
from onethread.errors import InvalidInput, PayloadTooLarge
from onethread.playbook import actions, service
from onethread.playbook.schemas import Playbook
from onethread.playbook.yaml_io import playbook_from_yaml, playbook_to_yaml

router = APIRouter(tags=["playbook"])

YAML_TYPE = "application/yaml"
MAX_YAML_BYTES = 1_000_000


class PlaybookOut(BaseModel):
    revision: int = Field(description="Bumped by every change; 0 until one is saved.")
    playbook: Playbook
    secret_names: list[str] = Field(description="Names of the secrets set (never values).")


class SecretsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secrets: dict[str, str | None] = Field(
        description="Name → value to set, or null to remove.", max_length=50
    )


async def _out(session: AsyncSession, context: Context, workspace_id: int) -> PlaybookOut:
    record = await service.playbook_record(session, workspace_id)
    playbook, revision = service.playbook_of(record)
    names = sorted(service.secrets_of(record, context.secrets))
    return PlaybookOut(revision=revision, playbook=playbook, secret_names=names)


async def _save(
    session: WriteSession, context: Context, caller: AdminCaller, playbook: Playbook
) -> PlaybookOut:
    teams = await list_teams(session, caller.workspace_id)
    await actions.do_save_playbook(
        session, caller.workspace_id, playbook, teams=teams, by_agent_id=caller.agent.id
    )
    await session.commit()
    return await _out(session, context, caller.workspace_id)


@router.get("/playbook", response_model=PlaybookOut)
async def get_playbook(
    caller: CurrentCaller, session: ReadSession, context: Context
) -> PlaybookOut:
    return await _out(session, context, caller.workspace_id)


@router.put("/playbook", response_model=PlaybookOut)
async def put_playbook(
    body: Playbook, caller: AdminCaller, session: WriteSession, context: Context
) -> PlaybookOut:
    return await _save(session, context, caller, body)


@router.get(
    "/playbook/yaml", response_class=Response, responses={200: {"content": {YAML_TYPE: {}}}}
)
async def export_playbook(caller: CurrentCaller, session: ReadSession) -> Response:
    playbook, _ = await service.load_playbook(session, caller.workspace_id)
    return Response(playbook_to_yaml(playbook), media_type=YAML_TYPE)


@router.put(
    "/playbook/yaml",
    response_model=PlaybookOut,
    openapi_extra={"requestBody": {"content": {YAML_TYPE: {"schema": {"type": "string"}}}}},
)
async def import_playbook(
    request: Request, caller: AdminCaller, session: WriteSession, context: Context
) -> PlaybookOut:
    """Replace the playbook with a YAML document (what `onethread playbook export` writes)."""
    raw = await request.body()
    if len(raw) > MAX_YAML_BYTES:
        raise PayloadTooLarge(f"a playbook is at most {MAX_YAML_BYTES} bytes")
    try:
        text = raw.decode()
    except UnicodeDecodeError as exc:
        raise InvalidInput("the playbook must be UTF-8 text") from exc
    return await _save(session, context, caller, playbook_from_yaml(text))


@router.put("/playbook/secrets", response_model=PlaybookOut)
async def put_secrets(
    body: SecretsUpdate, caller: AdminCaller, session: WriteSession, context: Context
) -> PlaybookOut:
    """Secrets for action templates (``{{ secrets.name }}``): stored sealed, never returned."""
    await actions.do_set_playbook_secrets(
        session,
        caller.workspace_id,
        body.secrets,
        box=context.secrets,
        by_agent_id=caller.agent.id,
    )
    await session.commit()
    return await _out(session, context, caller.workspace_id)
