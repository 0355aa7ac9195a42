"""Time zones as people name them on the portal's pages."""

from zoneinfo import ZoneInfo

from services.portal.zones import ZONE_CHOICES, zone_name


def test_zones_read_as_people_name_them_with_their_place():
    assert zone_name("America/Los_Angeles") == "Pacific time (Los Angeles)"
    assert zone_name("Pacific/Guam") == "Chamorro time (Guam)"
    assert zone_name("Pacific/Pago_Pago") == "Samoa time (Pago Pago)"
    assert zone_name("America/Phoenix") == "Mountain time, no daylight saving (Phoenix)"
    assert zone_name("UTC") == "UTC"
    assert zone_name("Europe/Paris") == "Paris"  # not one of ours: its place
    assert zone_name(None) == zone_name("") == ""


def test_every_choice_is_a_real_zone_with_a_name_of_its_own():
    for zone in ZONE_CHOICES:
        ZoneInfo(zone)
        assert zone_name(zone) == "UTC" if zone == "UTC" else " time" in zone_name(zone), zone
