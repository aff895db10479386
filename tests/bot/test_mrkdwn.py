from hypothesis import given
from hypothesis import strategies as st

from bot.mrkdwn import escape, safe_mrkdwn, unescape
from sandbox.block_kit import BROADCAST


def test_broadcast_mentions_become_plain_text() -> None:
    rendered, cut = safe_mrkdwn("hey <!channel> <!here|here> <!subteam^S1|@eng> <!everyone>", 3000)
    assert not cut
    assert rendered == (
        "hey &lt;!channel&gt; &lt;!here|here&gt; &lt;!subteam^S1|@eng&gt; &lt;!everyone&gt;"
    )


def test_people_channels_and_links_stay_clickable() -> None:
    rendered, _ = safe_mrkdwn(
        "<@U1|ann> in <#C9|general>: <https://x.io/?a=1&amp;b=2|the doc>", 3000
    )
    assert rendered == "<@U1> in <#C9>: <https://x.io/?a=1&amp;b=2|the doc>"


def test_slack_escaped_text_is_not_escaped_twice() -> None:
    assert safe_mrkdwn("a &lt; b &amp;&amp; c &gt; d &amp;lt;", 3000)[0] == (
        "a &lt; b &amp;&amp; c &gt; d &amp;lt;"
    )
    assert unescape("&amp;lt;") == "&lt;"
    assert escape("<&>") == "&lt;&amp;&gt;"


def test_truncation_never_splits_an_entity_or_a_token() -> None:
    rendered, cut = safe_mrkdwn("ab&amp;cd<@U123>ef", 6)
    assert cut
    assert rendered == "ab…"
    rendered, cut = safe_mrkdwn("x" * 10 + "<@U1234567>", 15)
    assert (rendered, cut) == ("x" * 10 + "…", True)


@given(
    st.text(alphabet=st.sampled_from(list("ab <>&!@#|^:/Uhttps")), max_size=400),
    st.integers(min_value=5, max_value=300),
)
def test_any_input_renders_within_the_limit_without_broadcasts(raw: str, limit: int) -> None:
    rendered, _ = safe_mrkdwn(raw, limit)
    assert len(rendered) <= limit
    assert BROADCAST.search(rendered) is None
    assert "<!" not in rendered
