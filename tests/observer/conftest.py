"""The equivalence helpers assert: let pytest show what differs."""

import pytest

pytest.register_assert_rewrite("tests.observer.equivalence")
