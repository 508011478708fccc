"""The `etsi` answer: hosts best first, or the closest topics and the catalogue; never empty."""

from __future__ import annotations

import json
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from bot.views.writeup_line import mention, permalink, summary_line
from services.catalogue.categories import CategoryView
from services.find.matching import FindResult, HostMatch
from services.ideas.writeups import WriteUpView

MAX_HOSTS = 10
MAX_CATEGORIES = 20
MAX_SUGGESTIONS = 5
QUERY_SHOWN = 100
DESCRIPTION_SHOWN = 400


def weekdays_text(t: Translator, mask: int) -> str:
    return ", ".join(t(f"weekday.short.{day}") for day in range(7) if mask & (1 << day))


def quoted(query: str) -> str:
    return b.escape(limits.clip(" ".join(query.split()), QUERY_SHOWN))


def find_message(
    result: FindResult, t: Translator, *, command: str, coordinator: bool = False
) -> dict[str, Any]:
    if result.hosts:
        blocks = _hosts_blocks(result, t, command=command)
        text = t("find.title", query=quoted(result.query))
    elif result.empty_query or not result.query.strip():
        blocks = _catalogue_blocks(result.categories, t, command=command, coordinator=coordinator)
        text = t("find.catalogue.title")
    else:
        blocks = _no_match_blocks(result, t, command=command)
        text = t("find.no_match", query=quoted(result.query))
    if result.writeups:  # write-ups on the same words, above the closing hint
        blocks[-1:-1] = related_block(result.writeups, t, command=command)
    body = b.message(text, blocks)
    body["response_type"] = "ephemeral"
    return body


def host_text(host: HostMatch, result: FindResult, t: Translator) -> str:
    heading = f"*{b.escape(host.library_name)}*"
    if host.distance_km is not None:
        heading += " · " + t("find.distance", km=f"{host.distance_km:.0f}")
    lines = [heading]
    topics = [result.topic_names[i] for i in host.topic_ids if i in result.topic_names]
    if topics:
        lines.append(t("find.offers", topics=b.escape(", ".join(topics))))
    if host.description:
        lines.append(b.escape(limits.clip(" ".join(host.description.split()), DESCRIPTION_SHOWN)))
    if host.contacts:
        lines.append(t("find.contacts", people=", ".join(mention(u) for u in host.contacts[:5])))
    if host.weekdays:
        lines.append(t("find.weekdays", days=weekdays_text(t, host.weekdays)))
    marks = []
    if host.closed_until is not None:
        marks.append(t("find.closed_until", date=host.closed_until.strftime("%d.%m.%Y")))
    if host.at_capacity:
        marks.append(t("find.at_capacity"))
    if not host.in_region:
        marks.append(t("find.not_covered"))
    if marks:
        lines.append(" · ".join(f"_{m}_" for m in marks))
    return "\n".join(lines)


def _hosts_blocks(result: FindResult, t: Translator, *, command: str) -> list[b.Block]:
    blocks: list[b.Block] = [b.section(t("find.title", query=quoted(result.query)))]
    if result.outside_region:
        blocks.append(b.context(t("find.outside_region")))
    for n, host in enumerate(result.hosts[:MAX_HOSTS]):
        value = json.dumps({"library": host.library_id, "topic": host.topic_id})
        button = b.button(t("find.propose"), ids.PROPOSE_HOST, value)
        blocks.append(b.section(host_text(host, result, t), accessory=button, block_id=f"host_{n}"))
        blocks.append(b.divider())
    if result.total > len(result.hosts):
        blocks.append(b.context(t.plural("find.more", result.total - len(result.hosts))))
    blocks.append(b.context(t("find.hint", command=command)))
    return blocks


def _topic_buttons(topics: list[Any], t: Translator) -> b.Block:
    return b.actions(
        *(
            b.button(limits.clip(topic.name, limits.BUTTON_TEXT), f"{ids.FIND_TOPIC}_{n}", str(topic.id))
            for n, topic in enumerate(topics[:MAX_SUGGESTIONS])
        ),
        block_id="find_suggestions",
    )


def _category_lines(categories: list[CategoryView], per_category: int) -> list[str]:
    lines = []
    for category in categories[:MAX_CATEGORIES]:
        names = [topic.name for topic in category.topics[:per_category]]
        more = len(category.topics) - len(names)
        text = ", ".join(names) + (f" (+{more})" if more > 0 else "")
        lines.append(f"*{b.escape(category.name)}*: {b.escape(text)}")
    return lines


def _no_match_blocks(result: FindResult, t: Translator, *, command: str) -> list[b.Block]:
    blocks: list[b.Block] = []
    if result.topics:
        names = ", ".join(topic.name for topic in result.topics[:5])
        blocks.append(b.section(t("find.no_hosts", query=quoted(result.query), topics=b.escape(names))))
    else:
        blocks.append(b.section(t("find.no_match", query=quoted(result.query))))
    if result.suggestions:
        blocks.append(b.context(t("find.closest")))
        blocks.append(_topic_buttons(result.suggestions, t))
    if result.categories:
        lines = _category_lines(result.categories, per_category=4)
        blocks.append(b.section(t("find.categories") + "\n" + "\n".join(lines)))
    blocks.append(b.context(t("find.hint", command=command)))
    return blocks


def _catalogue_blocks(
    categories: list[CategoryView], t: Translator, *, command: str, coordinator: bool
) -> list[b.Block]:
    blocks: list[b.Block] = [b.header(t("find.catalogue.title")), b.section(t("find.catalogue.intro"))]
    for category in categories[:MAX_CATEGORIES]:
        if not category.topics:
            continue
        names = "\n".join(f"• {b.escape(topic.name)}" for topic in category.topics)
        blocks.append(b.section(f"*{b.escape(category.name)}*\n{names}"))
    if len(blocks) == 2:
        blocks.append(b.section(t("find.catalogue.empty")))
    blocks.append(b.context(t("find.hint", command=command)))
    if coordinator:
        blocks.append(b.actions(b.button(t("topics.button.edit"), ids.OPEN_TOPICS), block_id="find_admin"))
    return blocks


def related_block(items: list[WriteUpView], t: Translator, *, command: str) -> list[b.Block]:
    """Under the `etsi` hosts: write-ups on the same words (at most one section)."""
    if not items:
        return []
    lines = [f"*{t('writeups.related.title')}*"]
    for w in items[:3]:
        line = summary_line(w, t)
        link = permalink(w.channel, w.ts)
        if link:
            line += f" · <{link}|{t('writeups.related.open')}>"
        lines.append(line)
    lines.append(t("writeups.related.more", command=command))
    return [b.section("\n".join(lines))]
