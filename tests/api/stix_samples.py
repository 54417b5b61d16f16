"""STIX 2.1 objects for the API tests, written from the STIX 2.1 specification's examples."""
import uuid

TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP_RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
TLP_CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def indicator(n=0, modified="2024-03-18T02:00:00.000Z", oid=None, markings=None):
    o = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": oid or f"indicator--{uuid.uuid4()}",
        "created": "2024-03-18T02:00:00.000Z",
        "modified": modified,
        "name": f"Planned strike {n}",
        "pattern": "[ipv4-addr:value = '198.51.100.%d']" % (n % 250),
        "pattern_type": "stix",
        "valid_from": "2024-03-18T02:00:00Z",
    }
    if markings:
        o["object_marking_refs"] = markings
    return o


def location(lat=31.51, lon=34.46, oid=None, markings=None):
    o = {
        "type": "location",
        "spec_version": "2.1",
        "id": oid or f"location--{uuid.uuid4()}",
        "created": "2024-03-18T02:00:00.000Z",
        "modified": "2024-03-18T02:00:00.000Z",
        "latitude": lat,
        "longitude": lon,
        "precision": 500.0,
    }
    if markings:
        o["object_marking_refs"] = markings
    return o


def envelope(*objs):
    return {"objects": list(objs)}


def ipv4(value="198.51.100.7", oid=None):
    """A STIX 2.1 SCO: no created or modified, so TAXII versions it by date_added."""
    return {
        "type": "ipv4-addr",
        "spec_version": "2.1",
        "id": oid or f"ipv4-addr--{uuid.uuid5(uuid.NAMESPACE_URL, value)}",
        "value": value,
    }


def new_version(obj, modified):
    """A copy of obj as a later (or earlier) version: same id, another modified."""
    o = dict(obj)
    o["modified"] = modified
    return o
