"""The validation hold-out: Keras's ``validation_split``, made the same on every backend.

``model.fit(x, y, validation_split=f)`` keeps the *last* ``f`` of the arrays it is given as
validation data (``split_at = int(len(x) * (1 - f))``), before any shuffling. rnnbench does
the same to the whole encoded training split (already in its seeded order, the same on every
backend), and only then takes ``train_size`` from what is left: so every cell of a suite, at
every training-set size, is validated on the very same reviews, and never on one it trained on.
"""

from __future__ import annotations

import dataclasses

from rnnbench.errors import UserError

from .spec import EncodedData


def hold_out(data: EncodedData, fraction: float, train_size: int | None) -> EncodedData:
    """``data`` with its last ``fraction`` of training reviews moved to ``x_val``/``y_val``,
    and the training set cut to the first ``train_size`` of the rest."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction}")
    n = len(data.x_train)
    split_at = int(n * (1.0 - fraction))
    if split_at < 1 or split_at >= n:
        raise UserError(f"data: validation_split = {fraction} of {n:,} training reviews leaves "
                        f"{split_at:,} to train on and {n - split_at:,} to validate on",
                        hint="use a validation_split that leaves reviews on both sides")
    if train_size is not None and train_size > split_at:
        raise UserError(f"data: train_size={train_size:,} but validation_split = {fraction} leaves only "
                        f"{split_at:,} of {n:,} training reviews to train on",
                        hint=f"use train_size <= {split_at:,} or a smaller validation_split")
    keep = split_at if train_size is None else train_size
    return dataclasses.replace(
        data,
        x_train=data.x_train[:keep], y_train=data.y_train[:keep],
        x_val=data.x_train[split_at:], y_val=data.y_train[split_at:],
    )
