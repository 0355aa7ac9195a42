"""Content service: the curriculum and its fidelity.

Owns series, modules (the nine sessions), the six PITC practices, materials with immutable numbered
versions, and adaptations with their fidelity review. Publishes ``content.material.published``,
``content.adaptation.submitted`` and ``content.adaptation.reviewed``. Consumes
``scheduling.jurisdiction.added``, to know the Tribes among its tenants.
"""

SERVICE = "content"
