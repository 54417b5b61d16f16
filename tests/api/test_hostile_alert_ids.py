"""Hostile partners against alert ids (S3, S12), written as the attack: a partner with any valid
token asks for alerts by ids it made up, and by the ids other partners see the same escalation
alert under (named by the first alarm day of their own views, docs/ACCESS.md "Alert ids"), on
every route that takes an alert id (REST read, status, triage; TAXII object by id and
match[id]). Each answer is the 404 of an alert that does not exist; the right id still answers.
And the hub does not pay for the attack: every id is looked up in a table of the ids of every
alert and alarm day, so a look-up computes a bounded number of alert ids (UUIDv5), which
/metrics counts (vigil_alert_ids_computed_total), where a scan of every escalation alert and
each of its alarm days computed (1 + alarm days) ids per escalation alert and look-up."""
import datetime
import uuid

from test_alert_rename import DAY0, assault, fired_day, post_all, wait_escalation


def day(n):
    return str(DAY0 + datetime.timedelta(days=n))


def last_day(a):
    """The last alarm day of a view: its end is the last microsecond of that day."""
    return a["end"][:10]


def test_made_up_and_other_partners_alert_ids_cost_a_bounded_number_of_id_computations(vigil):
    v = vigil
    for p in ("observers", "hidden", "hidden2"):
        v.partner(p)
    ana = v.user("observers", "ana")
    hid = v.user("hidden", "hid")
    hid2 = v.user("hidden2", "hid2")
    # Ana: one assault a day for 43 days, then 14 a day on days 43-48 (six alarm days), and one
    # on day 49 to complete day 48. Hid and Hid2 make days 42 and 41 alarm with RED reports
    # (day 41 is the first the detector judges): the engine's alert has eight alarm days
    # (41-48), and three readers whose views start on three days see it under three ids.
    post_all(v, ana, [assault(d, 0) for d in range(43)])
    post_all(v, ana, [assault(d, i) for d in range(43, 49) for i in range(14)] + [assault(49, 0)])
    post_all(v, hid, [dict(assault(42, i), marking="red") for i in range(1, 15)])
    post_all(v, hid2, [dict(assault(41, i), marking="red") for i in range(1, 15)])
    mine = wait_escalation(v, ana, lambda a: fired_day(a) == day(43) and last_day(a) == day(48))
    h1 = wait_escalation(v, hid, lambda a: fired_day(a) == day(42) and last_day(a) == day(48))
    h2 = wait_escalation(v, hid2, lambda a: fired_day(a) == day(41) and last_day(a) == day(48))
    theirs = [h1["id"], h2["id"]]
    assert len({mine["id"], *theirs}) == 3, (mine, theirs)
    coll = v.collection("alerts")
    objects = f"/taxii2/api/collections/{coll}/objects/"

    # each reader is answered under their own id only
    for token, own, others in ((ana, mine["id"], theirs), (hid, h1["id"], [mine["id"], h2["id"]]),
                               (hid2, h2["id"], [mine["id"], h1["id"]])):
        assert v.get(f"/api/v1/alerts/{own}", token=token).status_code == 200
        for other in others:
            assert v.get(f"/api/v1/alerts/{other}", token=token).status_code == 404

    # the first look-up after the engine changed brings the id table up to date (each new id
    # computed once); what the attack costs is counted from here
    assert v.get(f"/api/v1/alerts/{mine['id']}", token=ana).json() == mine
    before = v.metric("vigil_alert_ids_computed_total")
    made_up = [str(uuid.uuid4()) for _ in range(150)]
    missing = v.get(f"/api/v1/alerts/{uuid.uuid4()}", token=ana)
    assert missing.status_code == 404
    looks = 1
    for i in made_up + theirs * 10:
        r = v.get(f"/api/v1/alerts/{i}", token=ana)
        assert (r.status_code, r.content) == (missing.status_code, missing.content), r.text
        looks += 1
    for i in made_up[:40] + theirs:
        r = v.post(f"/api/v1/alerts/{i}/status", token=ana, json={"status": "acknowledged"})
        assert r.status_code == 404, r.text
        r = v.post(f"/api/v1/alerts/{i}/triage", token=ana, json={"comment": "probe"})
        assert r.status_code == 404, r.text
        r = v.get(f"{objects}grouping--{i}/", token=ana)
        assert r.status_code == 404, r.text
        looks += 3
    probe = ["grouping--" + i for i in made_up[40:90] + theirs]
    r = v.get(objects, token=ana, params={"match[id]": ",".join(probe), "match[type]": "grouping"})
    assert r.status_code in (200, 404), r.text
    assert r.status_code == 404 or not r.json().get("objects"), r.text
    looks += len(probe)
    # the right id still answers, on REST and TAXII, with the same alert
    assert v.get(f"/api/v1/alerts/{mine['id']}", token=ana).json() == mine
    r = v.get(objects, token=ana,
              params={"match[id]": ",".join(probe[:20] + ["grouping--" + mine["id"]])})
    assert [o["id"] for o in r.json()["objects"]] == ["grouping--" + mine["id"]], r.text
    looks += 22
    spent = v.metric("vigil_alert_ids_computed_total") - before
    # A scan computed at least 9 ids (the engine id and eight alarm days) per look-up of a
    # made-up id: more than 2,000 here. A look-up in the table computes one id per entry with
    # the same first 64 bits (none for a made-up id), and the answer's own.
    assert spent <= 2 * looks, (spent, looks)

    # nothing the attack tried changed anything
    assert wait_escalation(v, ana, lambda a: True) == mine
    assert v.get(f"/api/v1/alerts/{h1['id']}", token=hid).json()["status"] == "new"
