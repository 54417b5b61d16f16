"""A user who has left (S3): before, no admin could disable a user, so an analyst
who left a partner kept their password, their open streams and their webhooks, which went on
receiving every report they could read. Each test is written as that user, or as an admin
reaching for a user that is not theirs to manage."""
import time

import requests

from conftest import wait_for
from test_hostile_admin import hub, post_report  # noqa: F401 (the fixture)
from test_stream import Listener, Receiver, subscribe

PASSWORD = "a long passphrase"


def disable(vigil, token, user, disabled=True):
    return vigil.request("PATCH", f"/api/v1/users/{user}", token=token,
                         json={"disabled": disabled})


def login(vigil, user):
    s = requests.Session()
    r = s.post(vigil.url + "/api/v1/login", json={"user": user, "password": PASSWORD})
    return s if r.status_code == 200 else None


def test_a_disabled_user_keeps_no_way_in(hub):
    """a1 leaves partner A: A's admin disables a1. a1's token, dashboard session, password,
    open stream and webhook all stop at once; enabled again, the token works again."""
    vigil, t = hub
    vigil.allow_private_webhooks()
    vigil.run("user", "passwd", "a1", input=PASSWORD + "\n")
    session = login(vigil, "a1")
    assert session and session.get(vigil.url + "/api/v1/me").status_code == 200
    rx_a, rx_c = Receiver(), Receiver()
    stream = Listener(vigil, t["a1"])
    try:
        subscribe(vigil, t["a1"], rx_a.port)
        subscribe(vigil, t["c1"], rx_c.port)  # the control: C's analyst reads the same reports
        post_report(vigil, t["b1"], title="before")
        assert len(rx_a.wait(1)) == 1 and len(rx_c.wait(1)) == 1
        assert any(e[1] == "report" for e in stream.events(wait=2))

        r = disable(vigil, t["a-adm"], "a1")
        assert r.status_code == 200, r.text
        assert r.json() == {"name": "a1", "disabled": True}

        assert vigil.get("/api/v1/me", token=t["a1"]).status_code == 401
        assert session.get(vigil.url + "/api/v1/me").status_code == 401
        assert login(vigil, "a1") is None
        stream.t.join(timeout=10)
        assert not stream.t.is_alive()  # the server ended the stream
        post_report(vigil, t["b1"], title="after")
        assert len(rx_c.wait(2)) == 2  # delivered to the control...
        time.sleep(1)
        assert len(rx_a.got) == 1  # ...never to the disabled user's webhook
        users = vigil.get("/api/v1/users", token=t["a-adm"]).json()["users"]
        assert [u["disabled"] for u in users if u["name"] == "a1"] == [True]
        audit = vigil.get("/api/v1/audit?limit=50", token=t["a-adm"]).json()
        assert any(e.get("object") == "a1" and "user disable" in str(e.get("detail"))
                   for e in audit["entries"]), audit

        r = disable(vigil, t["a-adm"], "a1", disabled=False)
        assert r.status_code == 200 and r.json()["disabled"] is False
        assert vigil.get("/api/v1/me", token=t["a1"]).status_code == 200
    finally:
        stream.close()
        rx_a.close()
        rx_c.close()


def test_only_the_users_own_admins_may_disable_it(hub):
    """Another partner's admin gets the answer a name nobody uses gets, and changes nothing;
    an analyst may not; nobody disables themselves; the coordination center's admin may
    disable anyone's user."""
    vigil, t = hub
    ghost = disable(vigil, t["b-adm"], "nobody-by-this-name")
    other = disable(vigil, t["b-adm"], "a1")
    assert other.status_code == ghost.status_code == 404
    assert other.json()["description"].replace("a1", "X") == \
        ghost.json()["description"].replace("nobody-by-this-name", "X")
    assert vigil.get("/api/v1/me", token=t["a1"]).status_code == 200
    assert disable(vigil, t["a1"], "a-adm").status_code == 403
    assert vigil.get("/api/v1/me", token=t["a-adm"]).status_code == 200
    assert disable(vigil, t["a-adm"], "a-adm").status_code == 400
    for bad in ({"disabled": "yes"}, {}, {"disabled": True, "role": "admin"}):
        r = vigil.request("PATCH", "/api/v1/users/a1", token=t["a-adm"], json=bad)
        assert r.status_code == 400, (bad, r.text)
    assert vigil.get("/api/v1/me", token=t["a1"]).status_code == 200
    assert disable(vigil, t["admin"], "b1").status_code == 200
    assert vigil.get("/api/v1/me", token=t["b1"]).status_code == 401


def test_a_disabled_users_pending_deliveries_are_given_up(hub):
    """A delivery that failed once waits for its retry (2 s). Disabled meanwhile, the user's
    webhook must not get it when its receiver is back; the control's retry arrives."""
    vigil, t = hub
    vigil.allow_private_webhooks()
    rx_a, rx_c = Receiver(failures=1), Receiver(failures=1)
    try:
        subscribe(vigil, t["a1"], rx_a.port)
        subscribe(vigil, t["c1"], rx_c.port)
        post_report(vigil, t["b1"], title="queued")
        assert wait_for(lambda: rx_a.failures == 0 and rx_c.failures == 0)  # first tries failed
        assert disable(vigil, t["a-adm"], "a1").status_code == 200
        assert len(rx_c.wait(1)) == 1  # the control's retry
        time.sleep(3)
        assert rx_a.got == []
    finally:
        rx_a.close()
        rx_c.close()


def test_the_operator_disables_and_enables_on_the_command_line(hub):
    vigil, t = hub
    assert vigil.run("user", "disable", "a1").stdout.strip() == "disabled a1"
    assert vigil.get("/api/v1/me", token=t["a1"]).status_code == 401
    assert vigil.run("user", "enable", "a1").stdout.strip() == "enabled a1"
    assert vigil.get("/api/v1/me", token=t["a1"]).status_code == 200
    r = vigil.run("user", "disable", "ghost", check=False)
    assert r.returncode == 1 and 'no user named "ghost"' in r.stderr
