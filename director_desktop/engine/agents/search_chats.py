"""The `search_chats` agent: finds earlier conversations with the store's full-text search and
answers with links to them.

A link is `#session=<session_id>` (plus `&msg=<msg_id>` for a message hit): the page opens that
session (scrolled to the message) when it is clicked; docs/protocol.md describes it. Imports the
agent interface (`base`) and `protocol`; it reaches the store only through `AgentContext`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from director_desktop.engine.agents.base import AgentContext, AgentResult
from director_desktop.protocol import JSONSchema, SearchHit, text_item

MAX_HITS = 10


def session_link(session_id: str, msg_id: str | None = None) -> str:
    link = f"#session={quote(session_id, safe='')}"
    return link if msg_id is None else f"{link}&msg={quote(msg_id, safe='')}"


def _markdown_escape(text: str) -> str:
    """Keep names and snippets from being read as links, emphasis or HTML in the answer."""
    out = []
    for char in text:
        if char in "\\`*_{}[]()<>#+!|~":
            out.append("\\" + char)
        else:
            out.append(char)
    return " ".join("".join(out).split())


class SearchChatsAgent:
    name = "search_chats"
    description = (
        "Searches the user's earlier chats (session names and message text) and answers with "
        "links to the conversations found."
    )
    parameters: JSONSchema = {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Words to look for in earlier chats."}
        },
        "required": ["query"],
    }
    examples = ["@search_chats holiday video"]

    async def run(self, ctx: AgentContext, **arguments: Any) -> AgentResult:
        query = str(arguments.get("query") or "").strip()
        index = ctx.output.add_content(
            text_item("", status="progress", agent_name=self.name, status_message="Searching")
        )
        if not query:
            ctx.output.update_content(
                index, status="error", status_message=None, text="Tell me what to search for."
            )
            return AgentResult("error", "No search query was given.")
        hits = [
            h for h in await ctx.store.search(query, limit=50) if h["session_id"] != ctx.session_id
        ]
        hits = hits[:MAX_HITS]
        ctx.output.update_content(index, status="success", status_message=None, text=_answer(hits))
        found = [
            {"session_id": h["session_id"], "name": h["name"], "msg_id": h.get("msg_id")}
            for h in hits
        ]
        return AgentResult("success", f"Found {len(hits)} earlier chat(s).", {"results": found})


def _answer(hits: list[SearchHit]) -> str:
    if not hits:
        return "I found no earlier chat that matches."
    lines = [f"I found {len(hits)} earlier chat{'s' if len(hits) != 1 else ''}:", ""]
    for hit in hits:
        name = _markdown_escape(str(hit.get("name") or "Untitled chat"))
        link = session_link(str(hit["session_id"]), hit.get("msg_id"))
        snippet = _markdown_escape(str(hit.get("snippet") or ""))
        lines.append(f"- [{name}]({link})" + (f" — {snippet}" if snippet else ""))
    return "\n".join(lines)
