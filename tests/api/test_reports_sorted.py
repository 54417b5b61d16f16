"""The reports table's server side (issue #23, item 6): sorting over every matching report (not
only the page shown), a total, a marking filter, and paging through a sorted list; none of it
counts or orders what the reader may not read."""
from test_reports import post, report


def listing(vigil, query, token=None):
    r = vigil.get("/api/v1/reports" + query, token=token)
    assert r.status_code == 200, r.text
    return r.json()


def titles(body):
    return [r["title"] for r in body["reports"]]


def test_sort_covers_every_result_not_only_the_page(vigil):
    # Titles in an order unrelated to time, so that the newest-first page is not sorted by them
    names = ["delta", "alpha", "echo", "charlie", "bravo", "golf", "foxtrot"]
    for i, n in enumerate(names):
        assert post(vigil, report(title=n, start=f"2025-03-1{i}T02:00:00Z",
                                  end=f"2025-03-1{i}T03:00:00Z", fatalities=i)).status_code == 201
    first = listing(vigil, "?sort=title&limit=3")
    assert titles(first) == ["alpha", "bravo", "charlie"] and first["total"] == 7
    second = listing(vigil, "?sort=title&limit=3&cursor=" + first["next"])
    assert titles(second) == ["delta", "echo", "foxtrot"] and second["total"] == 7
    last = listing(vigil, "?sort=title&limit=3&cursor=" + second["next"])
    assert titles(last) == ["golf"] and "next" not in last
    assert titles(listing(vigil, "?sort=-title&limit=2")) == ["golf", "foxtrot"]
    assert titles(listing(vigil, "?sort=-fatalities&limit=2")) == ["foxtrot", "golf"]
    assert titles(listing(vigil, "?sort=start&limit=2")) == ["delta", "alpha"]
    # GeoJSON sorts the same
    geo = listing(vigil, "?sort=title&limit=2&format=geojson")
    assert [f["properties"]["title"] for f in geo["features"]] == ["alpha", "bravo"]
    # a sorted cursor is not a newest-first one, nor the other way round
    plain = listing(vigil, "?limit=3")
    assert "total" not in plain
    assert vigil.get("/api/v1/reports?sort=title&cursor=" + plain["next"]).status_code == 400
    assert vigil.get("/api/v1/reports?cursor=" + first["next"]).status_code == 400


def test_total_and_marking_filter_count_only_what_the_reader_may_read(vigil):
    vigil.partner("Egypt")
    vigil.partner("Qatar")
    eg = vigil.user("Egypt", "egypt1")
    qa = vigil.user("Qatar", "qatar1")
    for m in ("green", "green", "amber", "red"):
        assert post(vigil, report(marking=m, title=f"egypt {m}"), token=eg).status_code == 201
    assert post(vigil, report(marking="green", title="qatar green"), token=qa).status_code == 201
    assert listing(vigil, "?total=true", token=eg)["total"] == 5
    # Qatar may not read Egypt's AMBER and RED: not listed, not counted, not sortable into view
    q = listing(vigil, "?total=true&sort=marking", token=qa)
    assert q["total"] == 3 and all(t.endswith("green") for t in titles(q))
    assert listing(vigil, "?marking=red&total=true", token=qa) == {"reports": [], "total": 0}
    assert titles(listing(vigil, "?marking=red", token=eg)) == ["egypt red"]
    assert listing(vigil, "?marking=green&partner=Egypt", token=qa)["total"] == 2


def test_bad_sort_marking_and_total_are_refused(vigil):
    for q in ("?sort=colour", "?sort=-", "?marking=purple", "?total=yes"):
        r = vigil.get("/api/v1/reports" + q)
        assert r.status_code == 400, q
