"""Content service: the curriculum and its fidelity.

Owns series, modules (the nine sessions), the six PITC practices, materials with immutable numbered
versions, adaptations with their fidelity review, and learning communities (members, threads and
follows, documents, work plan, knowledge products, syntheses and consent). Publishes
``content.material.published``, ``content.adaptation.submitted``, ``content.adaptation.reviewed``,
``content.community.convened``/``updated``/``member_joined``/``member_left``, ``content.thread.replied``
and ``content.synthesis.published``. Consumes
``scheduling.jurisdiction.added``, to know the Tribes among its tenants.
"""

SERVICE = "content"
