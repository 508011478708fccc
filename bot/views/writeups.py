"""Write-ups: the modal, the idea-bank post, the notices, the `ideat` answer, the related write-ups
of `etsi`, App Home's "write it up" list and the newsletter export. All pure: (data, t) -> dict."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from bot import ids
from bot.i18n import Translator
from bot.views import blocks as b
from bot.views import limits
from bot.views.formatting import day_text
from bot.views.writeup_line import inline, mention, permalink, summary_line
from services.ideas.writeups import (
    LINK_MAX,
    REASON_MAX,
    RECOMMEND,
    TEXT_MAX,
    TITLE_MAX,
    Form,
    SearchResult,
    WriteUpView,
)
from services.people.coordinators import Scope, covers

# Field name (services.ideas.writeups) -> block id (== action id) of the modal
BLOCKS = {
    "title": ids.WRITEUP_TITLE,
    "learned": ids.WRITEUP_LEARNED,
    "try_at_home": ids.WRITEUP_TRY,
    "tips": ids.WRITEUP_TIPS,
    "recommend": ids.WRITEUP_RECOMMEND,
    "link": ids.WRITEUP_LINK,
    "publish": ids.WRITEUP_PUBLISH,
    "reason": ids.WRITEUP_HIDE_REASON,
}
SECTION_LIMIT = limits.SECTION_TEXT - 100  # room for a label line
SNIPPET = 200


# --- text helpers --------------------------------------------------------------------------
def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Escaped `text` in pieces of at most `limit` characters, cut at paragraph, line or word
    boundaries (never inside an `&amp;`-style entity)."""
    escaped = b.escape(text.strip())
    pieces: list[str] = []
    rest = escaped
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            at = window.rfind(sep)
            if at > limit // 2:
                cut = at
                break
        if cut == -1:
            cut = limit
            amp = window.rfind("&", 0, cut)
            if amp != -1 and ";" not in window[amp:cut] and cut - amp < 6:
                cut = amp
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def dm_link(user_id: str) -> str:
    return f"https://slack.com/app_redirect?channel={user_id}"


def _text_input(
    block: str, label: str, value: str, *, max_length: int, multiline: bool, optional: bool, hint: str
) -> b.Block:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": block,
        "multiline": multiline,
        "max_length": max_length,
    }
    if value:
        element["initial_value"] = value[:max_length]
    return b.input_block(block, label, element, optional=optional, hint=hint)


def writeup_modal(form: Form, t: Translator) -> dict[str, Any]:
    v = form.values
    intro = t(
        "writeups.modal.intro",
        topic=inline(form.topic(t.lang)),
        host=inline(form.host_library),
        date=day_text(form.visit_date, t),
    )
    blocks: list[b.Block] = [b.section(intro)]
    if form.from_draft:
        blocks.append(b.context(t("writeups.modal.draft_restored")))
    blocks += [
        _text_input(
            ids.WRITEUP_TITLE,
            t("writeups.field.title"),
            v.title,
            max_length=TITLE_MAX,
            multiline=False,
            optional=False,
            hint=t("writeups.hint.max", max=TITLE_MAX),
        ),
        _text_input(
            ids.WRITEUP_LEARNED,
            t("writeups.field.learned"),
            v.learned,
            max_length=TEXT_MAX,
            multiline=True,
            optional=False,
            hint=t("writeups.hint.max", max=TEXT_MAX),
        ),
        _text_input(
            ids.WRITEUP_TRY,
            t("writeups.field.try_at_home"),
            v.try_at_home,
            max_length=TEXT_MAX,
            multiline=True,
            optional=True,
            hint=t("writeups.hint.max", max=TEXT_MAX),
        ),
        _text_input(
            ids.WRITEUP_TIPS,
            t("writeups.field.tips"),
            v.tips,
            max_length=TEXT_MAX,
            multiline=True,
            optional=True,
            hint=t("writeups.hint.max", max=TEXT_MAX),
        ),
    ]
    options = [b.option(t(f"writeups.recommend.{key}"), key) for key in RECOMMEND]
    radio: dict[str, Any] = {"type": "radio_buttons", "action_id": ids.WRITEUP_RECOMMEND, "options": options}
    if v.recommend in RECOMMEND:
        radio["initial_option"] = options[RECOMMEND.index(v.recommend)]
    blocks.append(
        b.input_block(ids.WRITEUP_RECOMMEND, t("writeups.field.recommend", topic=form.topic(t.lang)), radio)
    )
    blocks.append(
        _text_input(
            ids.WRITEUP_LINK,
            t("writeups.field.link"),
            v.link,
            max_length=LINK_MAX,
            multiline=False,
            optional=True,
            hint=t("writeups.hint.link"),
        )
    )
    publish_option = b.option(t("writeups.field.publish_option"), "yes")
    checkbox: dict[str, Any] = {
        "type": "checkboxes",
        "action_id": ids.WRITEUP_PUBLISH,
        "options": [publish_option],
    }
    if v.publish:
        checkbox["initial_options"] = [publish_option]
    blocks.append(
        b.input_block(
            ids.WRITEUP_PUBLISH,
            t("writeups.field.publish"),
            checkbox,
            optional=True,
            hint=t("writeups.hint.publish"),
        )
    )
    return b.modal(
        ids.WRITEUP_VIEW,
        t("writeups.modal.title"),
        blocks,
        submit=t("writeups.modal.submit"),
        close=t("writeups.modal.close"),
        private_metadata=json.dumps({"visit": form.visit_id}),
        notify_on_close=True,
    )


def saved_view(w: WriteUpView, t: Translator) -> dict[str, Any]:
    key = {
        "published": "writeups.saved.published",
        "hidden": "writeups.saved.hidden",
    }.get(w.status.value, "writeups.saved.private")
    text = t(key, title=inline(w.title))
    blocks = [b.section(text), b.context(t("writeups.saved.edit_later"))]
    return b.modal(ids.WRITEUP_SAVED_VIEW, t("writeups.modal.title"), blocks, close=t("common.close"))


def hide_modal(writeup_id: int, title: str, t: Translator) -> dict[str, Any]:
    element = {
        "type": "plain_text_input",
        "action_id": ids.WRITEUP_HIDE_REASON,
        "multiline": True,
        "max_length": REASON_MAX,
    }
    return b.modal(
        ids.WRITEUP_HIDE_VIEW,
        t("writeups.hide.title"),
        [
            b.section(t("writeups.hide.intro", title=inline(title))),
            b.input_block(
                ids.WRITEUP_HIDE_REASON,
                t("writeups.hide.reason"),
                element,
                hint=t("writeups.hint.max", max=REASON_MAX),
            ),
        ],
        submit=t("writeups.hide.submit"),
        close=t("common.back"),
        private_metadata=json.dumps({"writeup": writeup_id}),
    )


# --- the idea-bank post --------------------------------------------------------------------
def _labelled(label: str, text: str) -> list[b.Block]:
    pieces = split_text(text)
    if not pieces:
        return []
    out = [b.section(f"*{label}*\n{pieces[0]}")]
    out += [b.section(piece) for piece in pieces[1:]]
    return out


def channel_message(w: WriteUpView, t: Translator, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The write-up as posted to the idea-bank channel (mentions and markup made inert). An
    author known only on another platform (Teams, no Slack account) is named from `names`."""
    title = " ".join(w.title.split())
    names = names or {}

    def author(person: str) -> str:
        return inline(names[person]) if person in names and not ids.is_user_id(person) else mention(person)

    blocks: list[b.Block] = [
        b.header(title),
        b.context(
            t(
                "writeups.post.meta",
                author=", ".join(author(a) for a in w.authors or (w.author_id,)),
                home=inline(w.home_library),
                host=inline(w.host_library),
                topic=inline(w.topic(t.lang)),
                date=day_text(w.visit_date, t),
            )
        ),
    ]
    if w.stops:  # a study trip: every further stop and its topic
        places = "; ".join(
            f"{inline(name)} – {inline(names.get(t.lang) or names.get('fi', ''))}" for name, names in w.stops
        )
        blocks.append(b.context(t("writeups.post.stops", stops=places)))
    blocks += _labelled(t("writeups.field.learned"), w.learned)
    blocks += _labelled(t("writeups.field.try_at_home"), w.try_at_home)
    blocks += _labelled(t("writeups.field.tips"), w.tips)
    if w.link:
        blocks.append(b.section(t("writeups.post.link", url=b.escape(w.link))))
    blocks.append(b.divider())
    text = t("writeups.post.fallback", title=b.escape(title), host=b.escape(w.host_library))
    return {**b.message(text, blocks), "unfurl_links": False}


def hidden_channel_message(t: Translator, *, withdrawn: bool = False) -> dict[str, Any]:
    """What stays in the channel when a write-up leaves the idea bank."""
    text = t("writeups.post.withdrawn" if withdrawn else "writeups.post.hidden")
    return b.message(text, [b.context(text)])


def notice_message(w: WriteUpView, t: Translator, *, coordinator: bool) -> dict[str, Any]:
    """To the host contacts and coordinators: a write-up was published (or submitted privately)."""
    key = "writeups.notice.published" if w.status.value == "published" else "writeups.notice.private"
    lines = [t(key, author=mention(w.author_id), host=inline(w.host_library), topic=inline(w.topic(t.lang)))]
    lines.append(summary_line(w, t))
    lines.append(t("writeups.notice.recommend", answer=t(f"writeups.recommend.{w.recommend or 'yes'}")))
    snippet = split_text(limits.clip(w.learned, SNIPPET))
    blocks: list[b.Block] = [b.section("\n".join(lines))]
    if snippet:
        blocks.append(b.context(snippet[0]))
    elements = []
    link = permalink(w.channel, w.ts)
    if link:
        elements.append({**b.button(t("writeups.button.open_post"), f"{ids.IDEAS_LINK}_0"), "url": link})
    if coordinator:
        if w.status.value == "published":
            elements.append(b.button(t("writeups.button.hide"), ids.WRITEUP_HIDE, str(w.id), style="danger"))
        else:
            elements.append(b.button(t("writeups.button.publish_for"), ids.WRITEUP_PUBLISH_FOR, str(w.id)))
    if elements:
        blocks.append(b.actions(*elements, block_id=f"writeup_{w.id}"))
    return b.message(lines[0], blocks)


def author_hidden_notice(w: WriteUpView, t: Translator) -> dict[str, Any]:
    text = t("writeups.notice.hidden", title=inline(w.title), reason=b.escape(w.hide_reason))
    return b.message(text, [b.section(text)])


def author_published_notice(w: WriteUpView, t: Translator) -> dict[str, Any]:
    text = t("writeups.notice.published_for_you", title=inline(w.title))
    return b.message(text, [b.section(text)])


# --- finding -------------------------------------------------------------------------------
def _result_blocks(w: WriteUpView, n: int, t: Translator, *, coordinator: bool | Scope) -> list[b.Block]:
    blocks: list[b.Block] = [b.section(summary_line(w, t) + "\n" + inline(limits.clip(w.learned, SNIPPET)))]
    elements = []
    link = permalink(w.channel, w.ts)
    if link:
        elements.append({**b.button(t("writeups.button.open_post"), f"{ids.IDEAS_LINK}_{n}"), "url": link})
    elements.append(
        {**b.button(t("writeups.button.ask"), f"{ids.IDEAS_ASK}_{n}"), "url": dm_link(w.author_id)}
    )
    if covers(coordinator, w.region_id):  # a coordinator of the write-up's region
        elements.append(b.button(t("writeups.button.hide"), ids.WRITEUP_HIDE, str(w.id)))
    blocks.append(b.actions(*elements, block_id=f"idea_{w.id}"))
    return blocks


def ideas_message(
    result: SearchResult, t: Translator, *, command: str, coordinator: bool | Scope
) -> dict[str, Any]:
    """The `ideat` answer: ten write-ups, newest first, and "more"."""
    shown = inline(limits.clip(result.query, 100))
    if not result.items:
        key = "writeups.ideas.none" if result.query else "writeups.ideas.empty"
        text = t(key, query=shown)
        body = b.message(text, [b.section(text), b.context(t("writeups.ideas.hint", command=command))])
        body["response_type"] = "ephemeral"
        return body
    title = t("writeups.ideas.found", query=shown) if result.query else t("writeups.ideas.latest")
    blocks: list[b.Block] = [b.section(f"*{title}*")]
    if result.any_word:
        blocks.append(b.context(t("writeups.ideas.any_word")))
    for n, w in enumerate(result.items[:10]):
        blocks += _result_blocks(w, n, t, coordinator=coordinator)
    first = result.offset + 1
    blocks.append(
        b.context(
            t(
                "writeups.ideas.showing",
                first=first,
                last=result.offset + len(result.items),
                total=result.total,
            )
        )
    )
    if result.has_more:
        value = json.dumps({"q": result.query[:300], "o": result.offset + len(result.items)})
        blocks.append(
            b.actions(b.button(t("writeups.ideas.more"), ids.IDEAS_MORE, value), block_id="ideas_more")
        )
    blocks.append(b.context(t("writeups.ideas.hint", command=command)))
    body = b.message(title, blocks)
    body["response_type"] = "ephemeral"
    return body


def home_blocks(pending: list[tuple[int, str, str, date]], t: Translator) -> list[b.Block]:
    """App Home: visits waiting for their write-up, each with "write it up"."""
    if not pending:
        return []
    blocks: list[b.Block] = [b.header(t("writeups.home.title"))]
    for visit_id, topic, host, day in pending[:5]:
        blocks.append(
            b.section(
                t("writeups.home.line", topic=inline(topic), host=inline(host), date=day_text(day, t)),
                accessory=b.button(
                    t("writeups.button.write"), ids.WRITEUP_OPEN, str(visit_id), style="primary"
                ),
                block_id=f"writeup_home_{visit_id}",
            )
        )
    return blocks


def export_ack(t: Translator, count: int) -> dict[str, Any]:
    text = t.plural("writeups.export.sent", count)
    return {"response_type": "ephemeral", **b.message(text, [b.section(text)])}


# --- the newsletter export -----------------------------------------------------------------
def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#])", r"\\\1", text.strip())


def export_markdown(items: list[WriteUpView], t: Translator, since: date) -> str:
    out = [f"# {t('writeups.export.title', since=day_text(since, t))}", ""]
    for w in items:
        out += [f"## {_md(' '.join(w.title.split()))}", ""]
        out.append(
            "_"
            + _md(
                t(
                    "writeups.export.meta",
                    home=w.home_library,
                    host=w.host_library,
                    topic=w.topic(t.lang),
                    date=day_text(w.visit_date, t),
                )
            )
            + "_"
        )
        out.append("")
        for key, text in (("learned", w.learned), ("try_at_home", w.try_at_home), ("tips", w.tips)):
            if text.strip():
                out += [f"**{_md(t(f'writeups.field.{key}'))}**", "", _md(text), ""]
        if w.link:
            out += [f"<{w.link}>", ""]
    if not items:
        out += [t("writeups.export.none"), ""]
    return "\n".join(out)


def export_html(items: list[WriteUpView], t: Translator, since: date) -> str:
    e = html.escape
    out = [f"<h1>{e(t('writeups.export.title', since=day_text(since, t)))}</h1>"]
    for w in items:
        out.append("<article>")
        out.append(f"<h2>{e(' '.join(w.title.split()))}</h2>")
        meta = t(
            "writeups.export.meta",
            home=w.home_library,
            host=w.host_library,
            topic=w.topic(t.lang),
            date=day_text(w.visit_date, t),
        )
        out.append(f"<p><em>{e(meta)}</em></p>")
        for key, text in (("learned", w.learned), ("try_at_home", w.try_at_home), ("tips", w.tips)):
            if text.strip():
                paragraphs = "".join(f"<p>{e(p)}</p>" for p in re.split(r"\n\s*\n", text.strip()))
                out.append(f"<h3>{e(t(f'writeups.field.{key}'))}</h3>{paragraphs}")
        if w.link:
            out.append(f'<p><a href="{e(w.link, quote=True)}">{e(w.link)}</a></p>')
        out.append("</article>")
    if not items:
        out.append(f"<p>{e(t('writeups.export.none'))}</p>")
    return "\n".join(out) + "\n"
