"""The topic catalogue: categories and topics with names in fi, sv and en and stable ids."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Topic, TopicCategory, TopicStatus


@dataclass(frozen=True)
class TopicView:
    id: int
    key: str
    name: str
    retired: bool


@dataclass(frozen=True)
class CategoryView:
    id: int
    key: str
    name: str
    topics: tuple[TopicView, ...]


def shipped_catalogue() -> dict[str, Any]:
    text = resources.files("services.data").joinpath("topics.json").read_text(encoding="utf-8")
    return json.loads(text)


def load_shipped_topics(session: Session, *, now: datetime) -> int:
    """Add the shipped categories and topics that are not in the database yet (by key).
    Existing rows are left alone: coordinators may have renamed or retired them."""
    data = shipped_catalogue()
    categories = {c.key: c for c in session.scalars(select(TopicCategory))}
    topic_keys = set(session.scalars(select(Topic.key)))
    added = 0
    for c_pos, c_data in enumerate(data["categories"]):
        category = categories.get(c_data["key"])
        if category is None:
            category = TopicCategory(
                key=c_data["key"],
                name_fi=c_data["name"]["fi"],
                name_sv=c_data["name"]["sv"],
                name_en=c_data["name"]["en"],
                position=c_pos,
            )
            session.add(category)
            session.flush()
        for t_pos, t_data in enumerate(c_data["topics"]):
            if t_data["key"] in topic_keys:
                continue
            session.add(
                Topic(
                    key=t_data["key"],
                    category_id=category.id,
                    name_fi=t_data["name"]["fi"],
                    name_sv=t_data["name"]["sv"],
                    name_en=t_data["name"]["en"],
                    synonyms="\n".join(t_data.get("synonyms", [])),
                    status=TopicStatus.ACTIVE,
                    position=t_pos,
                    created_at=now,
                )
            )
            added += 1
    session.flush()
    return added


def catalogue_view(session: Session, lang: str, *, include_retired: bool = False) -> list[CategoryView]:
    categories = session.scalars(
        select(TopicCategory).options(selectinload(TopicCategory.topics)).order_by(TopicCategory.position)
    )
    result = []
    for category in categories:
        topics = tuple(
            TopicView(t.id, t.key, t.name(lang), t.status == TopicStatus.RETIRED)
            for t in category.topics
            if include_retired or t.status == TopicStatus.ACTIVE
        )
        name = {"fi": category.name_fi, "sv": category.name_sv, "en": category.name_en}.get(lang)
        result.append(CategoryView(category.id, category.key, name or category.name_fi, topics))
    return result
