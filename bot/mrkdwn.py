"""Turning text people typed into mrkdwn the bot can post without pinging anyone.

Slack sends message text already escaped (`&amp;`, `&lt;`, `&gt;`) with its own markup as real
`<...>` tokens. We keep the tokens that cannot broadcast (user mentions, channel links, URLs) and
escape everything else, so `<!channel>`, `<!here>`, `<!everyone>` and `<!subteam^...>` come out as
plain text whatever a user typed.
"""

import html
import re

_TOKEN = re.compile(r"<([^<>]*)>")
_USER = re.compile(r"@([UW][A-Z0-9]+)(\|[^<>]*)?")
_CHANNEL = re.compile(r"#(C[A-Z0-9]+)(\|[^<>]*)?")
_URL = re.compile(r"((?:https?|mailto):[^|<>\s]+)(?:\|([^<>]*))?")
ELLIPSIS = "…"


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Undo Slack's escaping of `&`, `<`, `>` (one pass, so `&amp;lt;` stays `&lt;`)."""
    return re.sub(r"&(amp|lt|gt);", lambda m: html.unescape(m.group(0)), text)


def safe_mrkdwn(raw: str, limit: int) -> tuple[str, bool]:
    """Render user text as mrkdwn of at most `limit` characters; True when it was cut.

    Cuts happen between characters of plain text or before a whole token, never inside an
    entity such as `&amp;` or a `<@U…>` mention, so the result is always valid mrkdwn.
    """
    rendered: list[str] = []
    used = 0
    budget = limit - len(ELLIPSIS)
    pieces = list(_pieces(raw))
    total = sum(len(p) for p in pieces)
    if total <= limit:
        return "".join(pieces), False
    for piece in pieces:
        if used + len(piece) <= budget:
            rendered.append(piece)
            used += len(piece)
            continue
        if not piece.startswith("<"):
            for char in _escaped_chars(piece):
                if used + len(char) > budget:
                    break
                rendered.append(char)
                used += len(char)
        break
    return "".join(rendered) + ELLIPSIS, True


def _split(raw: str) -> list[tuple[bool, str]]:
    """Split into (is_token, piece): Slack markup tokens (without brackets) and text between."""
    parts: list[tuple[bool, str]] = []
    position = 0
    for match in _TOKEN.finditer(raw):
        if match.start() > position:
            parts.append((False, raw[position : match.start()]))
        parts.append((True, match.group(1)))
        position = match.end()
    if position < len(raw):
        parts.append((False, raw[position:]))
    return parts


def _pieces(raw: str) -> list[str]:
    """Rendered pieces: escaped text runs, and whole tokens that are safe to keep."""
    pieces: list[str] = []
    for is_token, piece in _split(raw):
        if not is_token:
            pieces.append(escape(unescape(piece)))
        elif user := _USER.fullmatch(piece):
            pieces.append(f"<@{user.group(1)}>")
        elif channel := _CHANNEL.fullmatch(piece):
            pieces.append(f"<#{channel.group(1)}>")
        elif url := _URL.fullmatch(piece):
            label = url.group(2)
            target = url.group(1)
            pieces.append(f"<{target}|{_label(label)}>" if label else f"<{target}>")
        else:
            pieces.append(escape(f"<{unescape(piece)}>"))
    return pieces


def _label(label: str) -> str:
    return escape(unescape(label)).replace("|", "¦")


def _escaped_chars(escaped: str) -> list[str]:
    """Split escaped text into characters, keeping each entity whole."""
    return re.findall(r"&(?:amp|lt|gt);|.", escaped, flags=re.DOTALL)
