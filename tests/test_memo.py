"""seccomp._memo: the bpf modules' caches (functools.lru_cache's effect without functools)."""
import pytest

from seccomp._memo import memo


def test_memo_remembers_positional_calls_up_to_its_bound():
    calls = []

    @memo(2)
    def double(x):
        """Twice x."""
        calls.append(x)
        if x < 0:
            raise ValueError(x)
        return 2 * x

    assert double.__doc__ == "Twice x." and double.__name__ == "double"
    assert [double(1), double(1), double(2), double(1)] == [2, 2, 4, 2]
    assert calls == [1, 2]
    double(3)  # the cache was full: emptied, then 3 remembered
    double(1)
    assert calls == [1, 2, 3, 1]
    assert double(x=5) == 10 and double(x=5) == 10 and calls[-2:] == [5, 5]  # not cached
    for _ in range(2):
        with pytest.raises(ValueError):
            double(-1)
    assert calls[-2:] == [-1, -1]  # exceptions are not remembered
