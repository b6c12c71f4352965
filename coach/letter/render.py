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
        return p.lead + "".join(s.text + s.sep for s in p.sentences)  # the draft's own spacing
    # white space at the end of the paragraph (usually none): after the draft's last sentence
    last_sep = next((s.sep for s in reversed(p.sentences) if s.state != "added"), "")
    out = [p.lead]
    for i, s in enumerate(live):
        out.append(s.text)
        if i == len(live) - 1:
            out.append(last_sep if not last_sep.strip() else "")
        else:
            nxt = live[i + 1]
            sep = s.sep if s.sep and not s.sep.strip() else " "
            if nxt.state == "added" and "\n" in nxt.sep:
                sep = nxt.sep  # a chat written line by line gets its new line on a line of its own
            out.append(sep)
    return "".join(out)


def render(letter: Letter) -> str:
    chunks: list[str] = []
    parts = letter.parts
    ended = False  # the text's last parts went (a fee P.S. after the name): it ends as the draft ended
    for p in parts:
        text = part_text(p)
        if not text and p.has_sentences:
            ended = True
            continue
        ended = False
        chunks.append(text)
        chunks.append(p.trail)
    if ended and len(chunks) >= 2:
        chunks[-1] = parts[-1].trail if not parts[-1].trail.strip() else ""
    return "".join(chunks)
