"""The letter model: the one parsed form of a draft (greeting, paragraphs of sentences, closing, signature,
P.S., footer, quoted mail). Rendering an unedited Letter gives the text back byte for byte."""

from coach.letter.model import Letter, Part, Sentence
from coach.letter.parse import parse_letter
from coach.letter.render import render

__all__ = ["Letter", "Part", "Sentence", "parse_letter", "render"]
