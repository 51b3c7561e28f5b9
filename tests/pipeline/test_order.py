"""The ORDER table and its RULES."""
from __future__ import annotations

import dataclasses

import pytest

from rawlux.frame import State
from rawlux.pipeline import order
from rawlux.pipeline.stage import Params, Stage


def test_rules_hold():
    order.check_rules()


def test_every_rule_names_known_stages_and_core_rules_present():
    names = order.stage_names()
    for a, b in order.RULES:
        assert a in names and b in names
    for rule in [("demosaic", "colour"), ("colour", "exposure"), ("tone", "output"),
                 ("whitebalance", "highlights"), ("highlights", "demosaic"), ("levels", "whitebalance")]:
        assert rule in order.RULES
    assert names.index("levels") < names.index("demosaic") < names.index("output")
    assert len(set(names)) == len(names)


def test_check_rules_catches_a_swap(monkeypatch):
    swapped = list(order.ORDER)
    i, j = order.stage_names().index("colour"), order.stage_names().index("demosaic")
    swapped[i], swapped[j] = swapped[j], swapped[i]
    monkeypatch.setattr(order, "ORDER", swapped)
    with pytest.raises(AssertionError, match="must run before"):
        order.check_rules()


def test_every_stage_follows_the_contract():
    for name, target, reason in order.ORDER:
        assert reason.strip(), f"{name} has no reason"
        st = order.get_stage(name)
        assert isinstance(st, Stage) and st.name == name, target
        assert issubclass(st.Params, Params) and st.Params.__dataclass_params__.frozen
        p = st.Params()
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.enabled = False  # type: ignore[misc]
        assert st.takes and all(isinstance(s, State) for s in st.takes)
        assert not hasattr(st.Params, "VERSION")   # params are versioned by their file's schema_version
        for f in dataclasses.fields(p):   # every field documented
            assert f.metadata.get("doc"), f"{name}.{f.name} has no doc"


def test_states_flow_from_raw_to_display():
    """Walking ORDER with each stage's gives, a RAW mosaic reaches DISPLAY."""
    state = State.CFA   # after levels
    for name in order.stage_names()[1:]:
        st = order.get_stage(name)
        if state in st.takes and st.gives is not None:
            state = st.gives
    assert state is State.DISPLAY


def test_unknown_stage():
    from rawlux.errors import ParameterError
    with pytest.raises(ParameterError, match="unknown stage 'sharpen"):
        order.get_stage("sharpen-me")
