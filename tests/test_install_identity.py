"""The install identity: made on first start, kept, and made anew on a cloned computer."""

from __future__ import annotations

import json
from pathlib import Path

from companion.system.install_identity import FILE_NAME, fingerprint, install_id, system_machine_id


def ids(*values: str):  # type: ignore[no-untyped-def]
    left = list(values)
    return lambda: left.pop(0)


def test_first_start_makes_an_id_and_later_starts_keep_it(tmp_path: Path) -> None:
    make = ids("id-1", "id-2")
    assert install_id(tmp_path, lambda: "machine-a", make) == "id-1"
    assert install_id(tmp_path, lambda: "machine-a", make) == "id-1"
    stored = json.loads((tmp_path / FILE_NAME).read_text())
    assert stored == {"install_id": "id-1", "machine": fingerprint("machine-a")}
    assert "machine-a" not in (tmp_path / FILE_NAME).read_text()  # the machine id is not kept


def test_a_copy_on_another_computer_gets_its_own_id(tmp_path: Path) -> None:
    make = ids("id-1", "id-2")
    image = tmp_path / "data"
    assert install_id(image, lambda: "machine-a", make) == "id-1"
    # the disk image's copy boots with a new machine id
    assert install_id(image, lambda: "machine-b", make) == "id-2"
    assert install_id(image, lambda: "machine-b", make) == "id-2"


def test_an_unreadable_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("{not json")
    assert install_id(tmp_path, lambda: "m", ids("fresh")) == "fresh"


def test_without_a_machine_id_the_id_is_still_kept(tmp_path: Path) -> None:
    make = ids("id-1", "id-2")
    assert install_id(tmp_path, lambda: None, make) == "id-1"
    assert install_id(tmp_path, lambda: None, make) == "id-1"


def test_this_computers_machine_id_is_read() -> None:
    machine = system_machine_id()
    etc = Path("/etc/machine-id")
    if etc.is_file() and etc.read_text().strip():
        assert machine == etc.read_text().strip()
    assert fingerprint(machine) != fingerprint("other")
