"""The sandbox's roster: a small demo school, or a large generated one for benchmarks.

A roster is a plain mapping from OneRoster collection name ("users", "classes", ...) to a list
of records shaped as OneRoster 1.2 defines them (strings for enabledUser, refs as
``{"href", "sourcedId", "type"}``).
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]
Roster = dict[str, list[Record]]

BASE_PATH = "/ims/oneroster/rostering/v1p2"
MODIFIED = "2025-08-01T12:00:00.000Z"
DEMO_SCHOOL_ID = "demo-school-1"
DEMO_COURSE_ID = "demo-course-1"
DEMO_COURSE_TITLE = "Companion Demo Course"
DEMO_TERM_ID = "demo-term-2025"
DEMO_GUIDE_ID = "demo-guide-1"

# (sourcedId suffix, given name, family name, email or None, enabled)
_DEMO_STUDENTS: list[tuple[str, str, str, str | None, bool]] = [
    ("01", "Ava", "Johnson", "ava.johnson@demo.school", True),
    ("02", "Liam", "O'Brien", "liam.obrien@demo.school", True),
    ("03", "Zoë", "Müller", "zoe.muller@demo.school", True),
    ("04", "José", "García", "jose.garcia@demo.school", True),
    ("05", "Minh", "Nguyễn", "minh.nguyen@demo.school", True),
    ("06", "Aisha", "Khan", "aisha.khan@demo.school", True),
    ("07", "Noah", "Smith", None, True),
    ("08", "Chloé", "Dubois", "chloe.dubois@demo.school", True),
    ("09", "Mateo", "Rossi", "mateo.rossi@demo.school", True),
    ("10", "Hana", "Sato", "hana.sato@demo.school", True),
    ("11", "Søren", "Larsen", "soren.larsen@demo.school", True),
    ("12", "Grace", "Okafor", "grace.okafor@demo.school", True),
    ("13", "Ethan", "D'Angelo", "ethan.dangelo@demo.school", False),
    ("14", "Olivia", "Brown", "olivia.brown@demo.school", True),
]


def ref(kind: str, collection: str, sourced_id: str) -> Record:
    """A OneRoster GUID reference to another record."""
    return {"href": f"{BASE_PATH}/{collection}/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def _base(sourced_id: str) -> Record:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": MODIFIED}


def _org(sourced_id: str, name: str) -> Record:
    return {**_base(sourced_id), "name": name, "type": "school", "identifier": sourced_id.upper()}


def _term(sourced_id: str) -> Record:
    return {
        **_base(sourced_id),
        "title": "School Year 2025-26",
        "startDate": "2025-08-15",
        "endDate": "2026-06-15",
        "type": "schoolYear",
        "schoolYear": "2026",
    }


def _course(sourced_id: str, title: str, school_id: str) -> Record:
    return {
        **_base(sourced_id),
        "title": title,
        "courseCode": sourced_id.upper(),
        "grades": ["05"],
        "subjects": ["Math"],
        "org": ref("org", "orgs", school_id),
    }


def _user(
    sourced_id: str,
    given: str,
    family: str,
    email: str | None,
    role: str,
    school_id: str,
    enabled: bool = True,
) -> Record:
    record: Record = {
        **_base(sourced_id),
        "userMasterIdentifier": f"umi-{sourced_id}",
        "username": (email or f"{sourced_id}@local").split("@")[0],
        "userIds": [],
        "enabledUser": "true" if enabled else "false",
        "givenName": given,
        "familyName": family,
        "preferredFirstName": given,
        "roles": [{"roleType": "primary", "role": role, "org": ref("org", "orgs", school_id)}],
        "primaryOrg": ref("org", "orgs", school_id),
        "identifier": sourced_id.upper(),
        "grades": ["05"] if role == "student" else [],
    }
    if email is not None:
        record["email"] = email
    return record


def _class(sourced_id: str, title: str, course_id: str, school_id: str, term_id: str) -> Record:
    return {
        **_base(sourced_id),
        "title": title,
        "classCode": sourced_id.upper(),
        "classType": "scheduled",
        "location": "Room 1",
        "grades": ["05"],
        "subjects": ["Math"],
        "course": ref("course", "courses", course_id),
        "school": ref("org", "orgs", school_id),
        "terms": [ref("academicSession", "academicSessions", term_id)],
    }


def _enrollment(
    sourced_id: str, user_id: str, class_id: str, school_id: str, role: str
) -> Record:
    return {
        **_base(sourced_id),
        "user": ref("user", "users", user_id),
        "class": ref("class", "classes", class_id),
        "school": ref("org", "orgs", school_id),
        "role": role,
        "primary": "true" if role == "teacher" else "false",
        "beginDate": "2025-08-15",
        "endDate": "2026-06-15",
    }


def seed_demo() -> Roster:
    """One school, one guide, fourteen students, two classes of the demo course."""
    school = DEMO_SCHOOL_ID
    users = [_user(DEMO_GUIDE_ID, "Maria", "Alvarez", "maria.alvarez@demo.school", "teacher",
                   school)]
    for suffix, given, family, email, enabled in _DEMO_STUDENTS:
        users.append(
            _user(f"demo-student-{suffix}", given, family, email, "student", school, enabled)
        )
    classes = [
        _class("demo-class-1", "Math Lab A", DEMO_COURSE_ID, school, DEMO_TERM_ID),
        _class("demo-class-2", "Math Lab B", DEMO_COURSE_ID, school, DEMO_TERM_ID),
    ]
    enrollments: list[Record] = []
    for cls in classes:
        enrollments.append(_enrollment(f"{cls['sourcedId']}-guide", DEMO_GUIDE_ID,
                                       cls["sourcedId"], school, "teacher"))
    students = [u for u in users if u["roles"][0]["role"] == "student"]
    for index, student in enumerate(students):
        cls = classes[index % 2]
        enrollments.append(_enrollment(f"{cls['sourcedId']}-{student['sourcedId']}",
                                       student["sourcedId"], cls["sourcedId"], school, "student"))
    return {
        "orgs": [_org(school, "Companion Demo School")],
        "academicSessions": [_term(DEMO_TERM_ID)],
        "courses": [_course(DEMO_COURSE_ID, DEMO_COURSE_TITLE, school)],
        "classes": classes,
        "users": users,
        "enrollments": enrollments,
    }


_GIVEN = ["Ava", "Liam", "Zoë", "José", "Minh", "Aisha", "Noah", "Chloé", "Mateo", "Hana"]
_FAMILY = ["Johnson", "O'Brien", "Müller", "García", "Nguyễn", "Khan", "Smith", "Rossi"]


def seed_large(users: int = 5000, classes: int = 200) -> Roster:
    """One school with many users and classes (a tenth of users are teachers) for benchmarks."""
    school = "large-school-1"
    course_id = "large-course-1"
    class_records = [
        _class(f"large-class-{i:04d}", f"Class {i}", course_id, school, DEMO_TERM_ID)
        for i in range(classes)
    ]
    user_records: list[Record] = []
    enrollments: list[Record] = []
    for i in range(users):
        role = "teacher" if i % 10 == 0 else "student"
        sourced_id = f"large-user-{i:05d}"
        given, family = _GIVEN[i % len(_GIVEN)], _FAMILY[(i // len(_GIVEN)) % len(_FAMILY)]
        user_records.append(_user(sourced_id, given, family, f"user{i}@large.school", role,
                                  school))
        if classes:
            class_id = class_records[i % classes]["sourcedId"]
            enrollments.append(_enrollment(f"large-enr-{i:05d}", sourced_id, class_id, school,
                                           role))
    return {
        "orgs": [_org(school, "Large Benchmark School")],
        "academicSessions": [_term(DEMO_TERM_ID)],
        "courses": [_course(course_id, "Benchmark Course", school)],
        "classes": class_records,
        "users": user_records,
        "enrollments": enrollments,
    }


def load_seed(name: str) -> Roster:
    """The roster for a seed name: "demo", "large" or "empty"."""
    if name == "demo":
        return seed_demo()
    if name == "large":
        return seed_large()
    if name == "empty":
        return {key: [] for key in ("orgs", "academicSessions", "courses", "classes", "users",
                                    "enrollments")}
    raise ValueError(f"unknown seed {name!r} (expected demo, large or empty)")
