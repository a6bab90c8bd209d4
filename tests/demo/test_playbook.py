"""The demo playbook ships as package data and validates; its contacts carry their ids."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml
from sqlalchemy import select

from onethread.agents.models import Domain
from onethread.contacts.models import Contact
from onethread.db.database import Database
from onethread.demo import script
from onethread.demo.billing_data import contact_attributes
from onethread.demo.playbook import demo_playbook
from onethread.demo.seed import seed_demo
from onethread.playbook.schemas import Playbook, Resolution
from onethread.settings import Settings

TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def shipped() -> Playbook:
    text = resources.files("onethread.demo").joinpath("playbook.yaml").read_text("utf-8")
    return Playbook.model_validate(yaml.safe_load(text))


def test_the_shipped_yaml_validates() -> None:
    playbook = shipped()
    assert 12 <= len(playbook.topics) <= 18
    assert {topic.domain for topic in playbook.topics} == {Domain.SERVICE, Domain.SUPPORT}
    assert {topic.resolve for topic in playbook.topics} == set(Resolution)
    assert playbook.rules.keep_human[0].matches({"vip": True})
    assert set(playbook.settings.greeting) == {"en", "fr", "es"}


def test_topics_belong_to_the_demo_teams_and_speak_three_languages() -> None:
    teams = {script.BILLING: Domain.SERVICE, script.SUPPORT: Domain.SUPPORT}
    for topic in shipped().topics:
        assert topic.team in teams, topic.name
        assert teams[topic.team] is topic.domain, topic.name
        assert 6 <= len(topic.examples) <= 12, topic.name
        assert set(topic.examples_by_language) == {"fr", "es"}, topic.name
        assert "human" not in topic.name  # asking for a person is a trigger, not a topic


def test_actions_reply_in_three_languages_with_no_figure_of_their_own() -> None:
    """Every number in a reply must come from the result: templates write none."""
    for action in shipped().actions:
        assert "attributes.customer_id" in action.requires, action.name
        for templates in (action.reply, action.not_found_reply):
            assert set(templates) == {"en", "fr", "es"}, action.name
            for language, template in templates.items():
                assert not re.search(r"\d", TAGS.sub("", template)), (action.name, language)


def test_the_demo_sets_the_billing_api_address() -> None:
    playbook = demo_playbook("http://127.0.0.1:8123/demo-api/billing/")
    assert playbook.vars["billing_api"] == "http://127.0.0.1:8123/demo-api/billing"


async def test_the_seed_links_contacts_to_billing_customers(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await seed_demo(Settings(data_dir=tmp_path, database_url=url, secret_key="k" * 32))
    db = Database(url)
    try:
        async with db.session() as session:
            contacts = (await session.scalars(select(Contact))).all()
    finally:
        await db.dispose()
    scripted = {thread.customer.name for thread in script.THREADS}  # not the history's
    linked = {c.name: c.attributes.get("customer_id") for c in contacts if c.name in scripted}
    assert len(linked) == len(script.THREADS)
    for name, customer_id in linked.items():
        assert {"customer_id": customer_id} == contact_attributes(str(name))
