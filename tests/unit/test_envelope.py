"""The event envelope: CloudEvents attribute names, catalogue validation, rejection of the unknown."""

import json

import pytest

from shared.envelope import InvalidEvent, make_event, parse_event
from shared.events import CATALOGUE

DATA = {
    "material_id": "m",
    "module_id": "mod",
    "series_id": "s",
    "module_position": 1,
    "kind": "resource",
    "title": "Handout",
    "version": 2,
    "national": True,
    "published_by": "admin",
}


def test_envelope_uses_cloudevents_attribute_names():
    event = make_event(
        "content.material.published",
        source="/services/content",
        subject="m",
        tenant="CA",
        data=DATA,
        correlationid="c-1",
    )
    wire = json.loads(event.to_json())
    assert set(wire) == {
        "specversion",
        "id",
        "type",
        "source",
        "time",
        "subject",
        "dataschema",
        "datacontenttype",
        "tenant",
        "correlationid",
        "data",
    }
    assert all(name.isalnum() and name.islower() for name in wire)
    assert wire["specversion"] == "1.0" and wire["time"].endswith("Z")
    assert wire["dataschema"] == "urn:t4t:event:content.material.published:v1"


def test_round_trip_keeps_every_attribute():
    event = make_event(
        "content.material.published", source="/s", subject="m", tenant="GU", data=DATA, correlationid="c-2"
    )
    parsed = parse_event(event.to_json())
    assert (parsed.id, parsed.type, parsed.tenant, parsed.correlationid, parsed.time) == (
        event.id,
        event.type,
        "GU",
        "c-2",
        event.time,
    )
    assert parsed.data["version"] == 2


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.update(type="content.unknown.happened"),
        lambda e: e.update(specversion="0.3"),
        lambda e: e.pop("tenant"),
        lambda e: e["data"].update(version="two"),
        lambda e: e["data"].update(extra_field=1),
        lambda e: e["data"].pop("material_id"),
    ],
)
def test_invalid_envelopes_are_rejected(mutate):
    wire = json.loads(
        make_event("content.material.published", source="/s", subject="m", tenant="CA", data=DATA).to_json()
    )
    mutate(wire)
    with pytest.raises(InvalidEvent):
        parse_event(json.dumps(wire))


def test_not_json_is_rejected():
    for body in (b"\xff\xfe", "[1, 2]", "{broken"):
        with pytest.raises(InvalidEvent):
            parse_event(body)


def test_writer_cannot_stage_an_invalid_event():
    with pytest.raises(InvalidEvent):
        make_event("content.material.published", source="/s", subject="m", tenant="CA", data={"title": "x"})


def test_every_type_follows_the_naming_rule():
    for event_type in CATALOGUE:
        source, entity, verb = event_type.split(".")
        assert source in {"content", "scheduling", "coaching", "notifications"} and entity and verb.islower()
