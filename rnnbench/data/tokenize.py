"""Text -> words, the way Keras's ``imdb.npz`` was made from the raw reviews.

Rules (they reproduce the published ``imdb.npz`` facts, see ``tests/test_data_imdb.py``):

* lowercase the ASCII letters A-Z only. ``str.lower`` would also fold non-ASCII capitals, and
  Keras's word index keeps words such as ``'Ángela'`` and ``'amÉlie'``, so it did not;
* every one of Keras's default filter characters ``!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~`` plus tab
  and newline becomes a space;
* split on the space character only (like ``text_to_word_sequence(split=" ")``), dropping
  empty strings. Other whitespace (``\\r``, no-break space ...) stays inside words.

``<br />`` thus becomes the word ``br``.
"""

from __future__ import annotations

KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'

_TABLE: dict[int, int] = {ord(c): ord(" ") for c in KERAS_FILTERS}
_TABLE.update({c: c + 32 for c in range(ord("A"), ord("Z") + 1)})


def normalize(text: str) -> str:
    """Lowercase A-Z and turn filter characters into spaces (one pass, ``str.translate``)."""
    return text.translate(_TABLE)


def raw_split(text: str) -> list[str]:
    """The space-split words of ``text``, empty strings included (the fast path's input)."""
    return text.translate(_TABLE).split(" ")


def text_to_words(text: str) -> list[str]:
    """The words of one review, in order."""
    return [w for w in text.translate(_TABLE).split(" ") if w]
