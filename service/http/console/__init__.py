"""The administration console (issue 15): server-rendered pages at /console (/admin leads
there) for administrators, who are people signed in with a passkey (``sesame users
grant-admin``). Reading needs an administrator's session; every change also needs a passkey
confirmation within the step-up window and the CSRF token, and is audited with the
administrator as actor. The bearer-token admin API (/admin/...) stays for automation."""

from __future__ import annotations

from fastapi import APIRouter

from service.http.console import apps, audit_log, groups, people, resources, setup

router = APIRouter()
for part in (people, groups, apps, resources, audit_log, setup):
    router.include_router(part.router)

__all__ = ["router"]
