"""The validation hold-out: Keras's last-fraction convention, the same reviews at every train_size."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbench.data import EncodedData
from rnnbench.data.split import hold_out
from rnnbench.errors import UserError


def _data(n: int) -> EncodedData:
    x = np.arange(n, dtype=np.int32).reshape(n, 1)
    return EncodedData(x, (np.arange(n) % 2).astype(np.float32), x[:3], np.zeros(3, np.float32), 10, "t", "0", None)


def test_the_last_fraction_is_held_out_as_keras_validation_split_does() -> None:
    d = hold_out(_data(25), 0.2, None)
    split_at = int(25 * (1 - 0.2))  # keras.Model.fit's own formula
    assert split_at == 20
    assert d.x_val[:, 0].tolist() == list(range(20, 25)) and d.y_val.tolist() == [0, 1, 0, 1, 0]
    assert d.x_train[:, 0].tolist() == list(range(20))


def test_every_train_size_validates_on_the_same_reviews_and_never_trains_on_them() -> None:
    full = hold_out(_data(100), 0.2, None)
    for n in (5, 40, 80):
        d = hold_out(_data(100), 0.2, n)
        assert np.array_equal(d.x_val, full.x_val)
        assert d.x_train[:, 0].tolist() == list(range(n))
        assert not set(d.x_train[:, 0]) & set(d.x_val[:, 0])


def test_a_train_size_larger_than_what_is_left_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="train_size=90 but validation_split = 0.2 leaves only 80"):
        hold_out(_data(100), 0.2, 90)
