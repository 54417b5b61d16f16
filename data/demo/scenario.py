#!/usr/bin/env python3
"""Loads Vigil's SYNTHETIC demo scenario into a running server (make demo; tests/api/test_demo.py).

Everything here is SYNTHETIC: invented reports about placeholder parties ("Party A",
"Party B") in an ILLUSTRATIVE agreement (data/demo/agreement.json, zones drawn geometrically
over the geoBoundaries Gaza governorates). Place names are real localities, used only so that
the map reads naturally; nothing describes a real event, a real line or a real party.

Deterministic: a fixed seed (SEED) and fixed dates. The scenario's three weeks are
2025-10-01 .. 2025-10-21 (UTC) whatever the day it is loaded; event times never depend on
the clock. Only the passwords and API tokens are random (they are secrets, made per data
directory); the STIX ids the server gives are random too, so the script finds its objects
by what it posted, never by id.

What it creates, all over the REST API with the admin token of `vigil init`:
- partners: United States, Israel, Egypt, Qatar, Türkiye; Indonesia and Azerbaijan as
  observers (reader users only); the Coordination Center exists already;
- users with dashboard passwords and API tokens (USERS);
- sharing groups: "Mediators" (Egypt, Qatar, Türkiye, United States, Coordination Center)
  for AMBER, and "Principals" (three named users) for RED;
- the agreement, loaded by a coordination-center analyst;
- about 230 reports posted by the partners' users in the order they would have been
  reported (STORY below, plus a seeded background), with mixed markings;
- the verification of violations by a coordination-center analyst (confirmed, disputed,
  not confirmed, under review; recent ones left as reported) and partners' opinions.

The planned-attack story (TAG "intel-planned-attack"): on 13 Oct the United States reports
intelligence of an attack planned on the coastal aid distribution site for 15 Oct 04:00-08:00;
on 14 Oct evening Egypt's monitors see Party B weapons moving 2.7 km away. The default rule
planned-attack-corroborated (data/rules/default.rules) then raises a HIGH alert, before the
window opens; the site was cleared, and the attempted attack at 05:10 (reported afterwards)
injures two.

Usage: scenario.py --url http://127.0.0.1:8443 --data DATA_DIR [--vigil BIN] [--logins FILE]
Needs Debian's python3 and python3-requests only. As a module: load(url, admin_token).
"""
import argparse
import datetime as dt
import math
import os
import pathlib
import random
import secrets
import sys

import requests

HERE = pathlib.Path(__file__).resolve().parent
AGREEMENT = HERE / "agreement.json"

SEED = 20251001
FIRST_DAY = dt.datetime(2025, 10, 1, tzinfo=dt.timezone.utc)
DAYS = 21  # 2025-10-01 .. 2025-10-21
REVIEW_UNTIL = dt.datetime(2025, 10, 19, tzinfo=dt.timezone.utc)  # later ones: the backlog

CC = "Coordination Center"  # made by `vigil init`
PARTNERS = ["United States", "Israel", "Egypt", "Qatar", "Türkiye", "Indonesia", "Azerbaijan"]
MEDIATORS = ["Egypt", "Qatar", "Türkiye", "United States", CC]
PRINCIPALS = ["us.analyst", "cc.amina", "qa.liaison"]  # the RED group: named users

# user, partner, role, what the newcomer should look at
USERS = [
    ("cc.admin", CC, "admin", "coordination-center admin: partners, users, groups, audit"),
    ("cc.amina", CC, "analyst", "CC analyst in the RED group: sees every report"),
    ("cc.lars", CC, "analyst", "CC analyst not in the RED group: misses the RED reports"),
    ("cc.monitor", CC, "reporter", "CC field monitor: files reports"),
    ("us.analyst", "United States", "analyst", "United States, RED group member"),
    ("us.liaison", "United States", "reporter", "United States liaison"),
    ("il.liaison", "Israel", "reporter", "Israel: not in Mediators, sees no Mediators AMBER"),
    ("eg.liaison", "Egypt", "reporter", "Egypt liaison (Mediators)"),
    ("eg.monitor", "Egypt", "reporter", "Egypt field monitor (Mediators)"),
    ("qa.liaison", "Qatar", "reporter", "Qatar liaison (Mediators, RED group)"),
    ("tr.liaison", "Türkiye", "reporter", "Türkiye liaison (Mediators)"),
    ("id.observer", "Indonesia", "reader", "observer: GREEN/CLEAR only, read-only"),
    ("az.observer", "Azerbaijan", "reader", "observer: GREEN/CLEAR only, read-only"),
]
GROUPS = {"Mediators": {"members": MEDIATORS},
          "Principals": {"members": ["user:" + u for u in PRINCIPALS]}}

# Places (lat, lon). Real localities for orientation; "(buffer)" points are synthetic
# positions inside the ILLUSTRATIVE buffer zone, "(line)" ones ~700 m west of the
# ILLUSTRATIVE withdrawal line. All lie inside the governorates.
PLACES = {
    "Beit Hanoun (buffer)": (31.5150, 34.5420),
    "Shuja'iyya (buffer)": (31.5000, 34.5054),
    "Juhor ad-Dik (buffer)": (31.4700, 34.4657),
    "Bureij (buffer)": (31.4400, 34.4300),
    "Maghazi (buffer)": (31.4100, 34.3937),
    "Al-Qarara (buffer)": (31.3650, 34.3589),
    "Khuza'a (buffer)": (31.3200, 34.3644),
    "Shokat as-Sufi (buffer)": (31.2750, 34.3336),
    "Beit Hanoun (line)": (31.5150, 34.5282),
    "Shuja'iyya (line)": (31.5000, 34.4916),
    "Zeitoun (line)": (31.4700, 34.4519),
    "Bureij (line)": (31.4400, 34.4161),
    "Maghazi (line)": (31.4100, 34.3799),
    "Al-Qarara (line)": (31.3650, 34.3451),
    "Khuza'a (line)": (31.3200, 34.3506),
    "Shokat as-Sufi (line)": (31.2750, 34.3198),
    "Gaza City (Rimal)": (31.5220, 34.4420),
    "Jabalia": (31.5300, 34.4830),
    "Beit Lahia": (31.5500, 34.5000),
    "Nuseirat": (31.4480, 34.3930),
    "Deir al-Balah": (31.4170, 34.3500),
    "Khan Yunis": (31.3460, 34.3060),
    "Al-Mawasi": (31.3600, 34.2650),
    "Rafah (Tal al-Sultan)": (31.3050, 34.2450),
    "coastal aid distribution site": (31.4160, 34.3335),
    "Deir al-Balah east road": (31.4320, 34.3550),
}
BUFFER = [p for p in PLACES if p.endswith("(buffer)")]
LINE = [p for p in PLACES if p.endswith("(line)")]
INTERIOR = ["Gaza City (Rimal)", "Jabalia", "Beit Lahia", "Nuseirat", "Deir al-Balah",
            "Khan Yunis", "Al-Mawasi", "Rafah (Tal al-Sultan)"]

SYNTH = " (SYNTHETIC demo data - not a real event.)"
ATTACK_WINDOW = ("2025-10-15T04:00:00Z", "2025-10-15T08:00:00Z")
RED_WINDOW = ("2025-10-20T00:00:00Z", "2025-10-20T04:00:00Z")


def ts(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def at(day, hour, minute=0):
    """2025-10-<day> hour:minute UTC."""
    return dt.datetime(2025, 10, day, hour, minute, tzinfo=dt.timezone.utc)


def parse(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


# ---- the scripted story ---------------------------------------------------------------------

def R(user, tag, place, event, start, reported, *, mode=None, future=False, end=None,
      actors=(), targets=(), rel="B", cred=2, marking="green", group=None, title="",
      desc="", fatalities=None, injured=None, precision=250, fate=None, where=None):
    lat, lon = where or PLACES[place]
    body = {"event": event, "future": future, "start": ts(start),
            "end": ts(end or start), "location": {"lat": lat, "lon": lon,
                                                  "precision_m": precision},
            "actors": list(actors), "reliability": rel, "credibility": cred,
            "marking": marking, "title": "SYNTHETIC - " + title,
            "description": desc + SYNTH}
    if mode:
        body["mode"] = mode
    if targets:
        body["targets"] = list(targets)
    if group:
        body["group"] = group
    if fatalities is not None:
        body["fatalities"] = fatalities
    if injured is not None:
        body["injured"] = injured
    return {"user": user, "tag": tag, "place": place, "reported": reported, "body": body,
            "fate": fate}


def story():
    s = []
    # Phase 1: Party A withdraws to the line.
    for i, (d, h, place, user) in enumerate([(1, 11, "Bureij (line)", "cc.monitor"),
                                             (2, 9, "Khuza'a (line)", "eg.monitor"),
                                             (3, 15, "Shuja'iyya (line)", "cc.monitor")]):
        s.append(R(user, f"withdrawal-{i}", place, "RETREAT", at(d, h), at(d, h + 2),
                   mode="withdraw", actors=["Party A armoured units"], rel="A", cred=2,
                   title=f"Party A units withdraw east of the line near {place}",
                   desc="Monitors observe armoured units pulling back towards the "
                        "illustrative withdrawal line (Phase 1)."))
    # 6-7 Oct: a build-up near the line after the Phase 1 deadline (MEDIUM: buildup-near-line).
    for i, (d, h, place, user, marking, group, fate) in enumerate([
            (6, 20, "Bureij (buffer)", "cc.monitor", "green", None, "confirmed"),
            (7, 2, "Maghazi (buffer)", "qa.liaison", "amber", "Mediators", "confirmed"),
            (7, 8, "Bureij (buffer)", "eg.monitor", "green", None, "disputed"),
            (7, 14, "Juhor ad-Dik (buffer)", "tr.liaison", "green", None, None)]):
        s.append(R(user, f"buildup-{i}", place, "MOBILIZE", at(d, h), at(d, h + 1),
                   mode="troops", end=at(d, h + 2), actors=["Party A armoured units"],
                   marking=marking, group=group, rel="B", cred=2, fate=fate,
                   title=f"Party A armour and infantry massing near the line ({place})",
                   desc="Tanks and infantry carriers observed moving west towards the "
                        "illustrative withdrawal line after the Phase 1 deadline."))
    # 8 Oct: a warning that nobody corroborates (no alert).
    s.append(R("il.liaison", "intel-uncorroborated", "Rafah (Tal al-Sultan)", "ASSAULT",
               at(10, 18), at(8, 9), end=at(10, 22), future=True, mode="heavy-weapons",
               actors=["Party B rocket units"], targets=["Party A forces"], rel="C",
               cred=3, marking="amber", precision=1000,
               title="Intelligence: possible rocket fire from Rafah on 10 Oct evening",
               desc="Single-source report of preparations for rocket fire; not corroborated."))
    # 9 Oct: exchange of fire across the line near Khuza'a (HIGH: exchange-of-fire).
    s.append(R("il.liaison", "fire-B", "Khuza'a (line)", "ASSAULT", at(9, 21, 10), at(9, 22),
               mode="firearms", actors=["Party B fighters"], targets=["Party A forces"],
               rel="B", cred=2, fate="confirmed",
               title="Party B fighters open fire on Party A positions near Khuza'a",
               desc="Small-arms and anti-tank fire from west of the illustrative line."))
    s.append(R("cc.monitor", "fire-A", "Khuza'a (buffer)", "ASSAULT", at(9, 21, 40),
               at(9, 23), mode="heavy-weapons", actors=["Party A armoured units"],
               targets=["Party B fighters"], rel="A", cred=2, fate="disputed",
               title="Party A tank fire from the buffer zone towards Khuza'a",
               desc="Tank rounds fired westwards from inside the illustrative buffer zone, "
                    "about 30 minutes after the Party B fire."))
    s.append(R("eg.monitor", "fire-A-2", "Khuza'a (buffer)", "ASSAULT", at(9, 21, 45),
               at(10, 1), mode="heavy-weapons", actors=["Party A forces"],
               targets=["Party B fighters", "civilians"], marking="amber", group="Mediators",
               rel="B", cred=3, injured=3, fate="under_review",
               title="Shelling near Khuza'a after an exchange of fire",
               desc="Egyptian monitors report shelling east of Khuza'a; three civilians hurt."))
    # 11 and 16 Oct: the humanitarian corridor.
    s.append(R("eg.liaison", "corridor-A", "Al-Mawasi", "COERCE", at(11, 7), at(11, 12),
               mode="restrict", end=at(11, 15), actors=["Party A forces"],
               targets=["aid convoy"], rel="B", cred=2, fate="confirmed",
               title="Aid convoy held at a Party A checkpoint on the coastal road",
               desc="Twelve trucks held for eight hours on the illustrative corridor."))
    s.append(R("us.liaison", "corridor-B", "Deir al-Balah", "COERCE", at(16, 10), at(16, 16),
               mode="confiscate", actors=["Party B armed wing"], targets=["aid convoy"],
               marking="amber", group="Mediators", rel="C", cred=3, fate="under_review",
               where=(31.4200, 34.3400),
               title="Party B armed men seize fuel from an aid convoy on the coastal road",
               desc="Two fuel trucks diverted near Deir al-Balah."))
    # 12 Oct: a single-source claim, disputed.
    s.append(R("il.liaison", "mortar-B", "Bureij (buffer)", "ASSAULT", at(12, 3), at(12, 6),
               mode="heavy-weapons", actors=["Party B rocket units"],
               targets=["Party A forces"], rel="C", cred=4, fate="disputed",
               title="Mortar rounds fired at Party A positions east of Bureij",
               desc="Claimed by one source; monitors heard no impacts."))
    # 13-15 Oct: the planned attack on civilians (HIGH before the window: the demo's point).
    s.append(R("us.liaison", "intel-planned-attack", "coastal aid distribution site",
               "ASSAULT", parse(ATTACK_WINDOW[0]), at(13, 16), end=parse(ATTACK_WINDOW[1]),
               future=True, mode="explosives", actors=["Party B armed wing"],
               targets=["civilians", "aid distribution site"], rel="B", cred=2,
               marking="amber", group="Mediators", precision=500,
               title="Intelligence: attack planned on the coastal aid distribution site, "
                     "15 Oct 04:00-08:00 UTC",
               desc="Reporting indicates a Party B cell intends to detonate explosives at the "
                    "coastal aid distribution site when crowds gather in the early morning."))
    s.append(R("eg.monitor", "corroboration-movement", "Deir al-Balah east road", "MOBILIZE",
               at(14, 19), at(14, 22, 30), end=at(14, 21), mode="weapons",
               actors=["Party B armed wing"], rel="B", cred=2, marking="amber",
               group="Mediators", precision=300,
               title="Party B vehicles moving weapons towards the coast near Deir al-Balah",
               desc="Two pick-ups loaded with crates moving west at dusk, 2.7 km from the "
                    "coastal aid distribution site."))
    s.append(R("cc.monitor", "attempted-attack", "coastal aid distribution site", "ASSAULT",
               at(15, 5, 10), at(15, 7), mode="explosives", actors=["Party B fighters"],
               targets=["civilians"], rel="A", cred=2, fatalities=0, injured=2,
               fate="confirmed",
               title="Explosive device detonates at the coastal aid distribution site",
               desc="The site had been cleared at 03:30 after the warning; two guards "
                    "injured."))
    # 17 Oct: an air strike in the no-fire area, three sources (duplicates not confirmed).
    for i, (user, rel, cred, fate) in enumerate([("cc.monitor", "A", 2, "confirmed"),
                                                ("qa.liaison", "B", 2, "duplicate"),
                                                ("tr.liaison", "C", 3, "duplicate")]):
        s.append(R(user, f"airstrike-{i}", "Nuseirat", "ASSAULT", at(17, 13, 20 + i * 5),
                   at(17, 15 + i), mode="aerial", actors=["Party A air force"],
                   targets=["residential building"], rel=rel, cred=cred, fatalities=4,
                   injured=11, fate=fate,
                   title="Air strike on a residential building in Nuseirat",
                   desc="Strike inside the illustrative no-fire area."))
    # 18-19 Oct: a RED warning for the Principals only, corroborated by movements nearby.
    s.append(R("us.analyst", "intel-red", "Al-Qarara (line)", "ASSAULT",
               parse(RED_WINDOW[0]), at(18, 10), end=parse(RED_WINDOW[1]), future=True,
               mode="drone", actors=["Party A air force"], targets=["Party B fighters"],
               rel="B", cred=3, marking="red", group="Principals", precision=1000,
               title="RED: intelligence of planned drone strikes near Al-Qarara, 20 Oct",
               desc="Sensitive source. For the named recipients only."))
    s.append(R("tr.liaison", "red-corroboration", "Al-Qarara (buffer)", "MOBILIZE",
               at(19, 15), at(19, 18), end=at(19, 17), mode="weapons",
               actors=["Party A armoured units"], rel="B", cred=2, marking="amber",
               group="Mediators",
               title="Party A moves launch vehicles close to the line near Al-Qarara",
               desc="Vehicles with launch rails seen moving towards the line."))
    return s


# ---- the seeded background --------------------------------------------------------------------

REPORTERS = {  # user: (reports per day, [(weight, marking, group)])
    "cc.monitor": (2.5, [(50, "green", None), (25, "amber", None), (15, "clear", None),
                         (10, "amber", "Mediators")]),
    "eg.monitor": (2.0, [(45, "amber", "Mediators"), (35, "green", None),
                         (20, "amber+strict", "Mediators")]),
    "eg.liaison": (0.8, [(60, "green", None), (40, "amber", "Mediators")]),
    "qa.liaison": (1.5, [(60, "amber", "Mediators"), (40, "green", None)]),
    "tr.liaison": (1.2, [(50, "green", None), (40, "amber", "Mediators"),
                         (10, "amber+strict", "Mediators")]),
    "us.liaison": (1.5, [(45, "amber", "Mediators"), (30, "amber", None),
                         (25, "green", None)]),
    "us.analyst": (0.25, [(100, "red", "Principals")]),
    "il.liaison": (2.0, [(60, "amber", None), (40, "green", None)]),
}
# relative intensity per day: tense first days, a lull, flare-ups on 9 and 15-17 Oct
INTENSITY = [1.6, 1.4, 1.2, 0.9, 0.8, 0.8, 1.0, 1.0, 1.4, 1.1, 0.8, 0.8, 0.9, 1.0,
             1.3, 1.4, 1.3, 0.9, 0.8, 0.7, 0.6]
GRADES = [("A", 2), ("B", 2), ("B", 3), ("C", 3), ("C", 2), ("B", 1), ("D", 4), ("C", 4)]


def pick(rng, weighted):
    total = sum(w for w, *_ in weighted)
    x = rng.uniform(0, total)
    for w, *rest in weighted:
        x -= w
        if x <= 0:
            return rest
    return weighted[-1][1:]


def poisson(rng, lam):
    n, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return n
        n += 1


def jitter(rng, place, metres):
    lat, lon = PLACES[place]
    dlat = rng.gauss(0, metres) / 111195.0
    dlon = rng.gauss(0, metres) / (111195.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def background_event(rng):
    """(event, mode, party actor, place, targets, title, description, jitter metres)."""
    kind = pick(rng, [(52, "assault"), (10, "mobilize"), (12, "threaten"), (10, "retreat"),
                      (7, "coerce"), (9, "aid")])[0]
    if kind == "assault":
        if rng.random() < 0.55:
            mode = pick(rng, [(25, "aerial"), (30, "drone"), (25, "heavy-weapons"),
                              (20, "firearms")])[0]
            actor = rng.choice(["Party A forces", "Party A air force", "Party A armoured units"])
            place = rng.choice(BUFFER + LINE + INTERIOR if mode in ("aerial", "drone")
                               else BUFFER + BUFFER + LINE + INTERIOR)
            targets = pick(rng, [(45, ["Party B fighters"]), (35, ["civilians"]),
                                 (20, ["infrastructure"])])[0]
            what = {"aerial": "Air strike", "drone": "Drone strike",
                    "heavy-weapons": "Shelling", "firearms": "Gunfire"}[mode]
            return ("ASSAULT", mode, actor, place, targets,
                    f"{what} attributed to Party A near {place}",
                    f"{what} reported near {place}.", 150)
        mode = pick(rng, [(45, "firearms"), (20, "explosives"), (20, "heavy-weapons"),
                          (15, "drone")])[0]
        actor = rng.choice(["Party B fighters", "Party B armed wing", "Party B rocket units"])
        place = rng.choice(LINE + INTERIOR + INTERIOR)
        targets = pick(rng, [(60, ["Party A forces"]), (25, ["civilians"]),
                             (15, ["monitors"])])[0]
        what = {"firearms": "Sniper and small-arms fire", "explosives": "Roadside bomb",
                "heavy-weapons": "Mortar fire", "drone": "Armed drone"}[mode]
        return ("ASSAULT", mode, actor, place, targets,
                f"{what} attributed to Party B near {place}", f"{what} reported near {place}.",
                150)
    if kind == "mobilize":
        mode = rng.choice(["troops", "weapons"])
        if rng.random() < 0.5:
            place = rng.choice(BUFFER + LINE)
            return ("MOBILIZE", mode, "Party A armoured units", place, [],
                    f"Party A {mode} movements near {place}",
                    f"Movements of Party A {mode} observed near {place}.", 100)
        place = rng.choice(BUFFER + INTERIOR + INTERIOR)
        return ("MOBILIZE", mode, "Party B armed wing", place, [],
                f"Party B {mode} movements near {place}",
                f"Party B {mode} seen moving near {place}.", 100)
    if kind == "threaten":
        actor = rng.choice(["Party A forces", "Party B armed wing"])
        place = rng.choice(INTERIOR)
        return ("THREATEN", "violence", actor, place, [],
                f"Statement by {actor.split(' ')[0]} {actor.split(' ')[1]} threatening "
                "retaliation", "Public statement threatening to resume hostilities.", 300)
    if kind == "retreat":
        if rng.random() < 0.6:
            place = rng.choice(LINE)
            return ("RETREAT", "withdraw", "Party A armoured units", place, [],
                    f"Party A units pull back from {place}",
                    "Units observed pulling back east.", 150)
        place = rng.choice(INTERIOR)
        return ("RETREAT", "release", "Party B armed wing", place, ["detainees"],
                f"Party B releases detainees in {place}",
                "Handover of detainees to the ICRC observed.", 200)
    if kind == "coerce":
        if rng.random() < 0.5:
            return ("COERCE", "restrict", "Party A forces", "Al-Mawasi", ["aid convoy"],
                    "Aid trucks delayed at a checkpoint on the coastal road",
                    "Convoy delayed for several hours.", 200)
        return ("COERCE", "withhold", "Party B armed wing", "Deir al-Balah", ["aid convoy"],
                "Aid withheld from a distribution point near Deir al-Balah",
                "Distribution blocked by armed men.", 200)
    place = rng.choice(INTERIOR)
    return ("AID", "humanitarian", "UN agencies", place, ["civilians"],
            f"Aid convoy reaches {place}", "Convoy delivered food and medical supplies.", 300)


def too_close_to_warning(lat, lon, start, story_reports):
    """Background movements must not corroborate (or blur) the scripted warnings."""
    for r in story_reports:
        b = r["body"]
        if not b["future"]:
            continue
        wl, wn = b["location"]["lat"], b["location"]["lon"]
        d = math.hypot((lat - wl) * 111195.0,
                       (lon - wn) * 111195.0 * math.cos(math.radians(wl)))
        ws, we = parse(b["start"]), parse(b["end"])
        if d < 12000 and ws - dt.timedelta(hours=60) <= start <= we + dt.timedelta(hours=60):
            return True
    return False


def background(rng, story_reports):
    out = []
    for day in range(DAYS):
        for user, (rate, markings) in REPORTERS.items():
            for k in range(poisson(rng, rate * INTENSITY[day])):
                event, mode, actor, place, targets, title, desc, jit = background_event(rng)
                start = FIRST_DAY + dt.timedelta(days=day, minutes=rng.randrange(0, 24 * 60, 5))
                end = start + dt.timedelta(minutes=rng.choice([0, 15, 30, 60, 120]))
                delay = dt.timedelta(minutes=rng.choice([20, 45, 90, 180, 360, 720]))
                marking, group = pick(rng, markings)
                rel, cred = rng.choice(GRADES)
                lat, lon = jitter(rng, place, jit)
                if event == "MOBILIZE" and too_close_to_warning(lat, lon, start, story_reports):
                    continue
                precision = rng.choice([100, 250, 500] if event == "MOBILIZE"
                                       else [100, 250, 500, 1000, 2000])
                fat = inj = None
                if event == "ASSAULT":
                    fat = rng.choice([0, 0, 0, 1, 1, 2, 3, 5])
                    inj = fat + rng.choice([0, 1, 2, 4, 7])
                r = R(user, None, place, event, start, end + delay, mode=mode, end=end,
                      actors=[actor], targets=targets, rel=rel, cred=cred, marking=marking,
                      group=group, title=title, desc=desc, precision=precision,
                      fatalities=fat, injured=inj, where=(lat, lon))
                r["seq"] = (day, user, k)
                out.append(r)
    return out


def build_reports(seed=SEED):
    """Every report of the scenario, in the order it is reported (deterministic)."""
    rng = random.Random(seed)
    s = story()
    reports = s + background(rng, s)
    reports.sort(key=lambda r: (r["reported"], r["body"]["start"], r["user"], r["tag"] or ""))
    return reports


# ---- who may read what (the S3 rule, to check the server's answers) -------------------------

def user_partner(user):
    return next(p for u, p, *_ in USERS if u == user)


def can_read(reader, report):
    """True when user `reader` may read the scenario report (docs/ACCESS.md)."""
    b = report["body"]
    rp, owner = user_partner(reader), user_partner(report["user"])
    if rp == owner or b["marking"] in ("clear", "green"):
        return True
    group = b.get("group")
    if b["marking"] == "red":
        return bool(group) and "user:" + reader in GROUPS[group]["members"]
    return rp in GROUPS[group]["members"] if group else rp == CC


# ---- the REST client ------------------------------------------------------------------------

class Api:
    def __init__(self, url, token):
        self.url, self.s = url.rstrip("/"), requests.Session()
        self.s.headers["Authorization"] = "Bearer " + token

    def call(self, method, path, expect=(200, 201), **kw):
        r = self.s.request(method, self.url + path, timeout=60, **kw)
        if r.status_code not in expect:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.call("POST", path, json=body, **kw)


def password():
    """16 random letters and digits (about 95 bits): a secret per data directory."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


def load(url, admin_token, log=print):
    """Loads the scenario into the server at url; returns a summary (see the end)."""
    admin = Api(url, admin_token)
    have = {p["name"] for p in admin.get("/api/v1/partners")["partners"]}
    if "United States" in have:
        raise RuntimeError("the demo scenario is already loaded in this data directory")
    for p in PARTNERS:
        admin.post("/api/v1/partners", {"name": p})
    users = {}
    for name, partner, role, note in USERS:
        pw = password()
        admin.post("/api/v1/users", {"partner": partner, "name": name, "role": role,
                                     "password": pw})
        tok = admin.post("/api/v1/tokens", {"user": name, "read_only": role == "reader",
                                            "label": "demo scenario"})["token"]
        users[name] = {"partner": partner, "role": role, "password": pw, "token": tok,
                       "note": note}
    log(f"  {len(PARTNERS)} partners and {len(users)} users created")
    api = {u: Api(url, v["token"]) for u, v in users.items()}
    for name, g in GROUPS.items():
        admin.post("/api/v1/groups", {"name": name, "members": g["members"]})
    agreement = api["cc.amina"].call("POST", "/api/v1/agreements",
                                     data=AGREEMENT.read_bytes(),
                                     headers={"Content-Type": "application/json"})
    log(f"  agreement loaded: {agreement['name']}")

    reports = build_reports()
    for r in reports:
        r["posted"] = dt.datetime.now(dt.timezone.utc)  # wall clock, for the tests
        r["id"] = api[r["user"]].post("/api/v1/reports", r["body"])["id"]
    tags = {r["tag"]: r["id"] for r in reports if r["tag"]}
    log(f"  {len(reports)} reports posted (2025-10-01 .. 2025-10-21)")

    # Verification by the coordination center (cc.amina sees every report).
    amina = api["cc.amina"]
    by_report = {}
    for v in amina.get("/api/v1/violations")["violations"]:
        by_report.setdefault(v["report"], []).append(v)
    rng = random.Random(SEED + 1)
    fates = {}
    for r in reports:  # reporting order: deterministic
        mine = by_report.get(r["id"], [])
        for v in sorted(mine, key=lambda v: (v["zone"]["name"], v["party"])):
            fate = r["fate"]
            if fate is None and not r["tag"]:
                fate = None if parse(r["body"]["start"]) >= REVIEW_UNTIL else pick(
                    rng, [(45, "confirmed"), (12, "disputed"), (12, "not_confirmed"),
                          (11, "under_review"), (20, None)])[0]
            fates[v["id"]] = (fate, r, v)
    steps = {"confirmed": ["under_review", "confirmed"],
             "disputed": ["under_review", "disputed"],
             "not_confirmed": ["under_review", "not_confirmed"],
             "duplicate": ["under_review", "not_confirmed"],
             "under_review": ["under_review"], None: []}
    reasons = {"under_review": "opened for verification",
               "confirmed": "corroborated by monitors' observation and imagery (SYNTHETIC)",
               "disputed": "accounts conflict; the party denies it (SYNTHETIC)",
               "not_confirmed": "no corroboration found by the monitors (SYNTHETIC)"}
    # the air strike's first report holds the evidence of the other two
    airstrike = {tags[f"airstrike-{i}"] for i in range(3)}
    primary = next((vid for vid, (_, r, _) in fates.items() if r["tag"] == "airstrike-0"),
                   None)
    for vid, (fate, r, v) in fates.items():
        for to in steps[fate]:
            reason = reasons[to]
            if fate == "duplicate" and to == "not_confirmed":
                reason = f"duplicate of {primary} (same strike); report added there as evidence"
            amina.post(f"/api/v1/violations/{vid}/transition", {"to": to, "reason": reason})
    if primary:
        for rid in sorted(airstrike - {tags["airstrike-0"]}):
            amina.post(f"/api/v1/violations/{primary}/evidence", {"report": rid})

    # Partners' opinions, by those who can see the violation.
    opinions = 0
    orng = random.Random(SEED + 2)
    for vid, (fate, r, v) in fates.items():
        if fate not in ("confirmed", "disputed"):
            continue
        for user in ("il.liaison", "eg.liaison", "qa.liaison", "tr.liaison", "us.liaison"):
            if not can_read(user, r) or orng.random() > 0.35:
                continue
            if vid == primary and not all(can_read(user, x) for x in reports
                                          if x["id"] in airstrike):
                continue
            op = orng.choice(["agree", "agree", "strongly-agree", "neutral", "disagree",
                              "strongly-disagree"])
            why = {"agree": "consistent with our monitors' reporting",
                   "strongly-agree": "we observed it directly",
                   "neutral": "we have no independent information",
                   "disagree": "our information places the event outside the zone",
                   "strongly-disagree": "our sources attribute it to the other party"}[op]
            api[user].post(f"/api/v1/violations/{vid}/opinions",
                           {"opinion": op, "explanation": why + " (SYNTHETIC)"})
            opinions += 1
    counts = {}
    for fate, _, _ in fates.values():
        key = {"duplicate": "not_confirmed", None: "reported"}.get(fate, fate)
        counts[key] = counts.get(key, 0) + 1
    log(f"  {len(fates)} candidate violations; reviewed: "
        + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) + f"; {opinions} opinions")
    return {"users": users, "reports": reports, "tags": tags, "violations": counts,
            "agreement": agreement, "attack_window": ATTACK_WINDOW,
            "red_window": RED_WINDOW}


# ---- the command ----------------------------------------------------------------------------

def logins_text(users):
    lines = ["# Vigil demo logins (SYNTHETIC scenario). Secret: keep this file private.",
             "# user\tpartner\trole\tpassword\tapi token\twhat to look at"]
    for name, u in users.items():
        lines.append("\t".join([name, u["partner"], u["role"], u["password"], u["token"],
                                u["note"]]))
    return "\n".join(lines) + "\n"


def write_private(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="the running server, e.g. http://127.0.0.1:8443")
    ap.add_argument("--data", required=True, help="its data directory (for admin.token)")
    ap.add_argument("--vigil", help="the vigil binary (unused: everything goes over REST)")
    ap.add_argument("--logins", help="write user names, passwords and tokens here (mode 0600)")
    args = ap.parse_args(argv)
    token = (pathlib.Path(args.data) / "admin.token").read_text().strip()
    print("Loading the SYNTHETIC demo scenario (fixed dates 2025-10-01 .. 2025-10-21):")
    summary = load(args.url, token)
    if args.logins:
        write_private(args.logins, logins_text(summary["users"]))
        print(f"  logins written to {args.logins}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
