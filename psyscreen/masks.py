"""Elementwise tests of numpy arrays against the intervals and conditions of definitions.

The definition models (:mod:`psyscreen.definitions`) are plain data; this is the one
place where their bounds are applied to arrays of scores, ages or grades. NaN (a missing
value) is never inside an interval nor meets a condition.

Example:
    >>> import numpy as np
    >>> from psyscreen.definitions import Condition, Interval
    >>> interval_mask(np.array([4.0, 5.0, 9.0, np.nan]), Interval(gt=5, le=9)).tolist()
    [False, False, True, False]
    >>> condition_mask(np.array([0.0, 1.0, np.nan]), Condition(ge=1)).tolist()
    [False, True, False]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .definitions import Condition, Interval

__all__ = ["condition_mask", "interval_mask"]


def interval_mask(x: npt.NDArray[np.floating], interval: Interval) -> npt.NDArray[np.bool_]:
    """Elementwise :meth:`Interval.contains <psyscreen.definitions.Interval.contains>`
    of a float array (False where NaN).

    Example:
        >>> import numpy as np
        >>> from psyscreen.definitions import Interval
        >>> interval_mask(np.array([8.0, 12.0]), Interval(ge=8, lt=12)).tolist()
        [True, False]
    """
    m: npt.NDArray[np.bool_] = ~np.isnan(x)
    if interval.ge is not None:
        m &= x >= interval.ge
    if interval.gt is not None:
        m &= x > interval.gt
    if interval.le is not None:
        m &= x <= interval.le
    if interval.lt is not None:
        m &= x < interval.lt
    return m


def condition_mask(x: npt.NDArray[np.floating], condition: Condition) -> npt.NDArray[np.bool_]:
    """Elementwise test of a float array against a :class:`~psyscreen.definitions.Condition`
    (its bounds, ``eq`` and ``in``; False where NaN).

    Example:
        >>> import numpy as np
        >>> from psyscreen.definitions import Condition
        >>> condition_mask(np.array([1.0, 2.0, 3.0]), Condition.model_validate({"in": [1, 3]}))
        array([ True, False,  True])
    """
    m = interval_mask(x, condition)
    if condition.eq is not None:
        m &= x == condition.eq
    if condition.in_ is not None:
        m &= np.isin(x, condition.in_)
    return m
