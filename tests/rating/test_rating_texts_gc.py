import gc

import pytest

from rating.reasons import without_cyclic_gc


def test_the_collector_is_paused_while_texts_are_built_and_left_as_it_was():
    was = gc.isenabled()
    try:
        gc.enable()
        with without_cyclic_gc():
            assert not gc.isenabled()
        assert gc.isenabled()
        with pytest.raises(ValueError), without_cyclic_gc():
            raise ValueError("a failed build")
        assert gc.isenabled()
        gc.disable()  # a caller that paused it itself keeps it paused
        with without_cyclic_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()
