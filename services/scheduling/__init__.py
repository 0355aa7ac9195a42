"""Scheduling service: when and where the training happens, and who came.

Owns training requests, host agencies and venues, cohorts (one delivery of a series) and their
sessions, registrations and waitlists, attendance, completions and certificates, training hours,
recurring series (office hours, community calls) and iCalendar feeds, and the jurisdictions (the
Tribes a national admin adds). Publishes ``scheduling.jurisdiction.added``, ``scheduling.request.*``, ``scheduling.session.*``, ``scheduling.registration.*``,
``scheduling.attendance.recorded``, ``scheduling.participant.completed`` and
``scheduling.office_hour.booked|cancelled`` and ``scheduling.community_call.*`` (learning communities'
calls and meetings, and national audio-conferences). Consumes ``content.material.published`` so each
session shows the current version of its materials, and ``content.community.*`` to know each
community's members.
"""

SERVICE = "scheduling"
