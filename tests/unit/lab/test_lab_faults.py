import pytest

from lab.faults import FaultError, FaultQueue, parse_fault


def test_matching_order_method_and_times():
    fq = FaultQueue()
    fq.add(
        [
            {
                "method": "POST",
                "path": "Applications",
                "times": 2,
                "action": {"kind": "status", "status": 429, "retry_after": 1},
            },
            {"method": None, "path": "^/xapi/", "action": {"kind": "drop"}},
        ]
    )
    assert fq.take("GET", "/2010-04-01/Accounts/AC1/Applications.json") is None
    assert fq.take("post", "/2010-04-01/Accounts/AC1/Applications.json")["status"] == 429
    assert len(fq.pending()) == 2 and fq.pending()[0]["times"] == 1
    assert fq.take("POST", "/x/Applications/AP1.json")["kind"] == "status"
    assert fq.take("POST", "/x/Applications/AP1.json") is None
    assert fq.take("PATCH", "/xapi/v1/E164Settings") == {"kind": "drop"}
    assert fq.pending() == []


def test_clear():
    fq = FaultQueue()
    fq.add([{"path": "", "action": {"kind": "delay", "seconds": 0.1}}])
    fq.clear()
    assert fq.take("GET", "/anything") is None


@pytest.mark.parametrize(
    "raw",
    [
        {"path": "(", "action": {"kind": "drop"}},
        {"path": "x", "action": {"kind": "explode"}},
        {"path": "x", "times": 0, "action": {"kind": "drop"}},
        {"path": "x", "method": "FETCH", "action": {"kind": "drop"}},
        {"path": "x", "action": {"kind": "status", "status": 42}},
        {"path": "x", "action": {"kind": "delay", "seconds": "1"}},
        {"path": "x", "action": {"kind": "drop", "seconds": 1}},
        {"path": "x", "action": {"kind": "drop"}, "extra": 1},
        "not an object",
    ],
)
def test_invalid_faults_are_refused(raw):
    with pytest.raises(FaultError):
        parse_fault(raw)


def test_add_is_all_or_nothing():
    fq = FaultQueue()
    with pytest.raises(FaultError):
        fq.add([{"path": "x", "action": {"kind": "drop"}}, {"path": "(", "action": {"kind": "drop"}}])
    assert fq.pending() == []
