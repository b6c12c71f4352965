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
    for i, p in enumerate(parts):
        text = part_text(p)
        if not text and p.has_sentences:
            if i == len(parts) - 1 and chunks:
                # the last part went (a P.S. after the signature): the text ends where the part before it ends,
                # with the white space the draft ended with, not the gap that led to the removed part
                chunks = ["".join(chunks).rstrip(), p.trail]
            continue
        chunks.append(text)
        chunks.append(p.trail)
    return "".join(chunks)
