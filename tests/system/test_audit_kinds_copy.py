"""The portal's filter of the audit log lists exactly identity's kinds, with identity's labels.

The gateway cannot import identity (each is deployed on its own), so it keeps a copy.
"""

from __future__ import annotations

from gateway.web.account_admin import AUDIT_KINDS
from identity.domain.audit import AUDIT_LABELS


def test_the_portal_lists_every_kind_of_the_audit_log_with_its_label() -> None:
    assert dict(AUDIT_KINDS) == {str(kind): label for kind, label in AUDIT_LABELS.items()}
