"""Who sees what: the one scope resolver.

Every read that takes a district, department or unit filter asks here, and every filter it
was given is checked against the caller's scope (never only one of them). An operator sees
their district and the districts below it; auditors and admins the whole city (the
directory's top district, never a literal); a handler their department; a channel the
petitions it submitted. A filter outside the scope is a 404 (the same answer as unknown
data, so scope cannot be probed); a filter naming nothing is a 400.
"""

from __future__ import annotations

from chalicelib.auth.identity import Identity
from chalicelib.directory.model import Directory
from chalicelib.errors import InvalidInput, NotFound

CITYWIDE_ROLES = ("auditor", "admin")  # read the whole city, whatever district they belong to


def scope_district(identity: Identity, directory: Directory) -> str | None:
    """The district an operator may look across: the city for auditors and admins."""
    return directory.city if identity.role in CITYWIDE_ROLES else identity.district


def covers(identity: Identity, directory: Directory, district: str) -> bool:
    scope = scope_district(identity, directory)
    return scope is not None and directory.covers(scope, district)


def district(identity: Identity, directory: Directory, code: str, field: str = "district") -> str:
    """A district filter: known, and within the caller's scope."""
    if directory.district(code) is None:
        raise InvalidInput(f"unknown district {code!r}", field=field)
    if not covers(identity, directory, code):
        raise NotFound("outside your scope", field=field)
    return code


def districts(
    identity: Identity, directory: Directory, code: str | None = None, field: str = "district"
) -> list[str]:
    """The districts a read covers: the one asked for (checked), else every one in scope."""
    if code is not None:
        return [district(identity, directory, code, field)]
    return [d.code for d in directory.districts if covers(identity, directory, d.code)]


def department(identity: Identity, directory: Directory, code: str, field: str = "department") -> str:
    """A department filter: a handler's own only; for others known and within scope."""
    if identity.role == "handler":
        if code != identity.department:
            raise NotFound("outside your department", field=field)
        return code
    dep = directory.department(code)
    if dep is None:
        raise InvalidInput(f"unknown department {code!r}", field=field)
    if not covers(identity, directory, dep.district):
        raise NotFound("outside your scope", field=field)
    return code


def unit(identity: Identity, directory: Directory, code: str, field: str = "unit") -> str:
    """A unit a violation is recorded against: a department, or a district's dispatch desk."""
    owner, _, rest = code.partition(".")
    if rest == "dispatch":
        if identity.role == "handler":
            raise NotFound("outside your department", field=field)
        district(identity, directory, owner, field)
        return code
    return department(identity, directory, code, field)


def known(directory: Directory, *, district_code: str | None, department_code: str | None) -> None:
    """Filters that name something (400 otherwise; asked first, since it reveals nothing)."""
    if district_code is not None and directory.district(district_code) is None:
        raise InvalidInput(f"unknown district {district_code!r}", field="district")
    if department_code is not None and directory.department(department_code) is None:
        raise InvalidInput(f"unknown department {department_code!r}", field="department")


def agree(directory: Directory, *, district_code: str | None, department_code: str | None) -> None:
    """Filters that agree: a department of that district (asked after the scope: 404 first)."""
    dep = directory.department(department_code) if department_code else None
    if dep is not None and district_code is not None and not directory.covers(district_code, dep.district):
        raise InvalidInput(f"{department_code} is not a department of {district_code}", field="department")


def petition_partitions(
    identity: Identity, directory: Directory, *, district_code: str | None, department_code: str | None
) -> list[tuple[str, str]]:
    """The index partitions a petition listing reads: the channel's own, the handler's
    department, one department or district asked for, or every district in scope. Every filter
    given is checked: it names something, agrees with the others, and lies in the caller's scope;
    the listing then applies whichever filters its partitions do not already mean."""
    known(directory, district_code=district_code, department_code=department_code)
    if identity.is_channel:
        agree(directory, district_code=district_code, department_code=department_code)
        return [("channel", identity.name)]
    if identity.role == "handler":
        own = department(identity, directory, department_code or identity.department or "")
        if district_code is not None:
            district(identity, directory, district_code)
        agree(directory, district_code=district_code, department_code=own)
        return [("department", own)]
    if identity.role == "grid_worker":  # their district's partition; the listing keeps their grid's only
        agree(directory, district_code=district_code, department_code=department_code)
        return [("district", district(identity, directory, district_code or identity.district or ""))]
    if identity.role == "desk":  # 我首问的诉求: what the desk's unit received
        agree(directory, district_code=district_code, department_code=department_code)
        return [("first_unit", identity.department or "")]
    if department_code:
        dep = department(identity, directory, department_code)
        if district_code:
            district(identity, directory, district_code)
        agree(directory, district_code=district_code, department_code=dep)
        return [("department", dep)]
    return [("district", d) for d in districts(identity, directory, district_code)]
