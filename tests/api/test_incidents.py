"""GET /api/v1/incidents (issue #20): reports that describe one real event, fused, per reader.
An incident is re-formed from what the reader may see (S3): a report the reader cannot read
is not in it and does not count as a source; one partner's two reports are two events."""
import json
import time

import pytest
import requests

from test_alerts import WARNING, post


@pytest.fixture
def world(vigil):
    for p in ("Egypt", "Qatar", "Observer"):
        vigil.partner(p)
    t = {p: vigil.user(p, p.lower() + "1", role="analyst") for p in ("Egypt", "Qatar",
                                                                     "Observer")}
    return vigil, t


def incidents(vigil, token, query=""):
    r = vigil.get("/api/v1/incidents" + query, token=token)
    assert r.status_code == 200, r.text
    return r.json()["incidents"]


def test_incidents_are_formed_from_what_the_reader_may_see(world):
    vigil, t = world
    e = post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    q = post(vigil, t["Qatar"], dict(WARNING, marking="green", title="Same attack",
                                     location=dict(WARNING["location"], lat=31.521)))
    o = post(vigil, t["Observer"], dict(WARNING, marking="red", title="Seen too"))
    # Egypt's second warning there: by Egypt's own account another event.
    e2 = post(vigil, t["Egypt"], dict(WARNING, marking="amber", title="Another one"))
    # The next day: another event.
    later = post(vigil, t["Qatar"], dict(WARNING, marking="green", start="2025-10-15T18:00:00Z",
                                         end="2025-10-15T22:00:00Z"))

    obs = incidents(vigil, t["Observer"])  # reads e, q, o and later, not e2 (amber)
    assert sorted(len(i["reports"]) for i in obs) == [1, 3], obs
    three = next(i for i in obs if len(i["reports"]) == 3)
    assert sorted(three["report_ids"]) == sorted([e, q, o])
    assert three["sources"] == 3 and three["corroborated"] is True
    assert three["event"] == "ASSAULT" and three["future"] is True
    assert three["start"] == "2025-10-14T18:00:00Z" and three["end"] == "2025-10-14T22:00:00Z"
    assert abs(three["place"]["lat"] - 31.52) < 0.01 and 0 < three["confidence"] <= 100
    assert sorted(r["id"] for r in three["reports"]) == sorted([e, q, o])  # side by side
    assert obs[0]["report_ids"] == [later]  # newest first

    eg = incidents(vigil, t["Egypt"])  # reads e, q, e2, later; not o (red)
    assert sorted(sorted(i["report_ids"]) for i in eg) == sorted(
        [sorted([e, q]), [e2], [later]]), eg
    pair = next(i for i in eg if len(i["report_ids"]) == 2)
    assert pair["sources"] == 2 and pair["confidence"] < three["confidence"]
    for i in eg:
        assert o not in i["report_ids"] and o not in str(i)

    qa = incidents(vigil, t["Qatar"])  # e, q, later
    assert sorted(sorted(i["report_ids"]) for i in qa) == sorted([sorted([e, q]), [later]])

    # Filters: corroborated or not, time, place, event type.
    assert [i["report_ids"] for i in incidents(vigil, t["Egypt"], "?corroborated=false")] == [
        [later], [e2]]
    assert [sorted(i["report_ids"]) for i in incidents(
        vigil, t["Egypt"], "?corroborated=true")] == [sorted([e, q])]
    assert [i["report_ids"] for i in incidents(
        vigil, t["Qatar"], "?since=2025-10-15T00:00:00Z")] == [[later]]
    assert incidents(vigil, t["Qatar"], "?bbox=35,31,36,32") == []
    assert len(incidents(vigil, t["Qatar"], "?bbox=34,31,35,32")) == 2
    assert incidents(vigil, t["Qatar"], "?event=MOBILIZE") == []
    assert len(incidents(vigil, t["Qatar"], "?event=ASSAULT&future=true&limit=1")) == 1
    for bad in ("?corroborated=maybe", "?bbox=1,2", "?limit=0", "?event=NOPE", "?x=1",
                "?since=yesterday"):
        assert vigil.get("/api/v1/incidents" + bad, token=t["Qatar"]).status_code == 400, bad
    assert vigil.get("/api/v1/incidents", auth=False).status_code == 401


def stream_events(vigil, token, kinds, until_n, timeout=15):
    """Reads /api/v1/stream?kinds=... until until_n events came (or timeout): [(event, data)]."""
    h = {"Authorization": "Bearer " + token, "Accept": "text/event-stream"}
    r = requests.get(vigil.url + "/api/v1/stream?since=0&kinds=" + kinds, headers=h,
                     stream=True, timeout=timeout)
    assert r.status_code == 200
    out, ev, deadline = [], {}, time.time() + timeout
    try:
        for line in r.iter_lines(decode_unicode=True):
            if line is None or line.startswith(":"):
                pass
            elif line == "":
                if "data" in ev:
                    out.append((ev.get("event"), json.loads(ev["data"])))
                ev = {}
            else:
                k, _, v = line.partition(": ")
                ev[k] = v
            if len(out) >= until_n or time.time() > deadline:
                break
    except requests.RequestException:
        pass
    finally:
        r.close()
    return out


def test_the_live_stream_carries_each_readers_incidents(world):
    vigil, t = world
    e = post(vigil, t["Egypt"], dict(WARNING, marking="green"))
    o = post(vigil, t["Observer"], dict(WARNING, marking="red", title="Seen too"))
    q = post(vigil, t["Qatar"], dict(WARNING, marking="green", title="Same attack"))
    # Qatar asked for incidents only: the incident of each report it may read (e, then q), as
    # it stands when sent, formed from what Qatar may read: never Observer's RED report.
    got = stream_events(vigil, t["Qatar"], "incident", 2)
    assert [k for k, _ in got] == ["incident", "incident"], got
    for _, inc in got:
        assert sorted(inc["report_ids"]) == sorted([e, q]) and inc["sources"] == 2
    assert o not in json.dumps(got)
    # The Observer reads all three: one incident of three sources, after its reports.
    got = stream_events(vigil, t["Observer"], "report,incident", 6)
    kinds = [k for k, _ in got]
    assert kinds.count("report") == 3 and kinds.count("incident") == 3, kinds
    assert sorted(got[-1][1]["report_ids"]) == sorted([e, o, q]) and got[-1][1]["sources"] == 3
    # Not asked for: no incident events (the default stream is unchanged).
    got = stream_events(vigil, t["Observer"], "report", 3)
    assert [k for k, _ in got] == ["report"] * 3
