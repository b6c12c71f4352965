"""A Letter back to text: the parts end to end; an edited paragraph re-joins its live sentences."""

from __future__ import annotations

from coach.letter.model import Letter, Part


def part_text(p: Part) -> str:
    """The text of one part without its trail ("" for a paragraph whose sentences all went)."""
    if not p.has_sentences:
        return p.raw
    if not p.sentences:
        return p.raw
    live = p.live_sentences()
    if not live:
        return ""
    if all(s.state == "kept" for s in p.sentences):
        return p.raw
    last_sep = p.sentences[-1].sep  # white space at the end of the paragraph (usually none)
    out = [p.lead]
    for i, s in enumerate(live):
        out.append(s.text)
        out.append(s.sep if i < len(live) - 1 else last_sep if s.state != "added" or not last_sep.strip() else "")
    return "".join(out)


def render(letter: Letter) -> str:
    chunks: list[str] = []
    parts = letter.parts
    for i, p in enumerate(parts):
        text = part_text(p)
        if not text and p.has_sentences:
            if i == len(parts) - 1 and chunks:
                # the last part went: the text ends as the part before it ended
                pass
            continue
        chunks.append(text)
        chunks.append(p.trail)
    return "".join(chunks)
